-- A session started or continued by a signed-in user names her (RGPD: her sessions can be
-- exported and are erased with her account).
ALTER TABLE Session ADD COLUMN user_id VARCHAR(24) NULL COLLATE NOCASE;
CREATE INDEX IF NOT EXISTS idx_user_id ON Session (user_id);
