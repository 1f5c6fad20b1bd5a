-- Reserved for the other engineer's migration 0016 (the lead deletes this placeholder at merge).
CREATE TABLE _reserved_0016 (id INTEGER);
DROP TABLE _reserved_0016;
