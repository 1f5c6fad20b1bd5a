-- Reserved for migration 0012 of issue 21 part A (branch fleet21a): this branch (fleet21b, part B) was given
-- 0013, and the loader refuses gaps. At merge, part A's 0012 replaces this file.
SELECT 1;
