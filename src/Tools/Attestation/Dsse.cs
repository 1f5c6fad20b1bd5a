using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FactoryMcp.Tools.Attestation;

/// <summary>One signature of a DSSE envelope: the signing key's id and the signature, base64 (ECDSA: DER).</summary>
public sealed record DsseSignature(
    [property: JsonPropertyName("keyid")] string KeyId,
    [property: JsonPropertyName("sig")] string Sig
);

/// <summary>A DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1): the payload base64 and its signatures.</summary>
public sealed record DsseEnvelope(
    [property: JsonPropertyName("payload")] string Payload,
    [property: JsonPropertyName("payloadType")] string PayloadType,
    [property: JsonPropertyName("signatures")] IReadOnlyList<DsseSignature> Signatures
);

/// <summary>
/// Signs and checks DSSE envelopes. What is signed is the pre-authentication encoding (PAE) of the payload type and
/// the payload bytes, <c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c> (lengths in ASCII decimal bytes), with
/// ECDSA P-256 over SHA-256, the signature DER-encoded as openssl writes and reads it.
/// </summary>
public static class Dsse
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        return [.. header, .. type, .. middle, .. payload];
    }

    public static DsseEnvelope Sign(
        ReadOnlySpan<byte> payload,
        AttestationKey key,
        string payloadType = InTotoPayloadType
    )
    {
        var signature = key.Key.SignData(
            Pae(payloadType, payload),
            HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence
        );
        return new DsseEnvelope(
            Convert.ToBase64String(payload),
            payloadType,
            [new DsseSignature(key.KeyId, Convert.ToBase64String(signature))]
        );
    }

    public static string ToJson(DsseEnvelope envelope) =>
        JsonSerializer.Serialize(envelope, Mcp.ToolsJson.Default.DsseEnvelope);

    /// <summary>Reads an envelope, or says why it is not one.</summary>
    public static DsseEnvelope Parse(string json)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(json, Mcp.ToolsJson.Default.DsseEnvelope);
            if (envelope is { Payload: not null, PayloadType: not null, Signatures: not null })
                return envelope;
        }
        catch (JsonException) { }
        throw new FormatException("not a DSSE envelope (JSON with payload, payloadType and signatures)");
    }

    /// <summary>Whether a signature by <paramref name="publicKey"/> (matched by key id) verifies over the envelope's PAE.</summary>
    public static bool Verify(DsseEnvelope envelope, ECDsa publicKey, out byte[] payload)
    {
        payload = [];
        var keyId = AttestationKey.KeyIdOf(publicKey);
        byte[] body;
        try
        {
            body = Convert.FromBase64String(envelope.Payload);
        }
        catch (FormatException)
        {
            return false;
        }
        var pae = Pae(envelope.PayloadType, body);
        foreach (var signature in envelope.Signatures.Where(s => s.KeyId == keyId))
        {
            byte[] sig;
            try
            {
                sig = Convert.FromBase64String(signature.Sig);
            }
            catch (FormatException)
            {
                continue;
            }
            if (publicKey.VerifyData(pae, sig, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
            {
                payload = body;
                return true;
            }
        }
        return false;
    }
}
