// Drives `factory serve` (stdio) with the TypeScript SDK's own client and its experimental tasks API
// (the 2025-11-25 design): claims the task, fixes it, declares PR_READY as a task, polls it to the end,
// then declares again without a task and prints what it saw as one JSON line. Input: a JSON argument
// {factory, cwd, agent, fix: {path, content}, other}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const input = JSON.parse(process.argv[2]);

async function connect(agent) {
    const client = new Client(
        { name: 'tasks-check', version: '1.0.0' },
        { capabilities: { tasks: { list: {}, cancel: {}, requests: {} } } }
    );
    const env = { ...process.env, FACTORY_AGENT: agent };
    await client.connect(
        new StdioClientTransport({ command: input.factory, args: ['serve'], cwd: input.cwd, env, stderr: 'inherit' })
    );
    return client;
}

const errorOf = async promise => {
    try {
        await promise;
        return null;
    } catch (e) {
        return { code: e.code, message: e.message };
    }
};

const seen = {};
const client = await connect(input.agent);
try {
    seen.serverTasks = client.getServerCapabilities()?.tasks ?? null;
    const tools = await client.listTools();
    seen.execution = tools.tools.find(t => t.name === 'declare_terminal_state')?.execution ?? null;
    const packet = await client.callTool({ name: 'get_task_packet', arguments: {} });
    const runId = packet.structuredContent.run_id;
    await client.callTool({
        name: 'record_evidence',
        arguments: { run_id: runId, kind: 'plan', summary: 'fix the typo' }
    });
    writeFileSync(join(packet.structuredContent.workspace, input.fix.path), input.fix.content);
    const args = { run_id: runId, state: 'PR_READY', summary: 'fixed the typo' };

    seen.messages = [];
    for await (const message of client.experimental.tasks.callToolStream({ name: 'declare_terminal_state', arguments: args })) {
        if (message.type === 'taskCreated' || message.type === 'taskStatus')
            seen.messages.push({ type: message.type, taskId: message.task.taskId, status: message.task.status, statusMessage: message.task.statusMessage });
        else if (message.type === 'result') seen.result = message.result;
        else if (message.type === 'error') seen.error = { code: message.error.code, message: message.error.message };
    }
    const taskId = seen.messages[0]?.taskId;
    seen.listed = (await client.experimental.tasks.listTasks()).tasks.map(t => ({ taskId: t.taskId, status: t.status }));
    seen.blocking = await client.callTool({ name: 'declare_terminal_state', arguments: args });
    seen.bogus = await errorOf(client.experimental.tasks.getTask('job-1-0-00000000000000000000000000000000'));

    const other = await connect(input.other);
    try {
        seen.otherGet = await errorOf(other.experimental.tasks.getTask(taskId));
        seen.otherList = (await other.experimental.tasks.listTasks()).tasks.length;
        seen.otherCancel = await errorOf(other.experimental.tasks.cancelTask(taskId));
        // An ESCALATE is decided at once: that design's client still gets a (completed) task.
        await other.listTools(); // the client learns which tools take tasks from tools/list
        const second = await other.callTool({ name: 'get_task_packet', arguments: {} });
        const escalate = { run_id: second.structuredContent.run_id, state: 'ESCALATE', summary: 'stuck', question: 'which greeting?' };
        seen.escalation = [];
        for await (const message of other.experimental.tasks.callToolStream({ name: 'declare_terminal_state', arguments: escalate })) {
            if (message.type === 'result') seen.escalation.push({ type: 'result', result: message.result });
            else if (message.type === 'error') seen.escalation.push({ type: 'error', message: message.error.message });
            else seen.escalation.push({ type: message.type, taskId: message.task.taskId, status: message.task.status });
        }
    } finally {
        await other.close();
    }
} finally {
    await client.close();
}
console.log(JSON.stringify(seen));
