-- A session started or continued by a signed-in user names her (RGPD: her sessions can be
-- exported and are erased with her account). One statement: it applies whole or not at all.
ALTER TABLE Session ADD COLUMN user_id VARCHAR(24) NULL, ADD INDEX idx_user_id (user_id);
