-- Keys the domain signs with (issue 12: the links providers fetch sent files from), shared by
-- every process on this database. A key is written once and never changed.
CREATE TABLE signing_keys (
	name TEXT PRIMARY KEY,
	key  BLOB NOT NULL
);
