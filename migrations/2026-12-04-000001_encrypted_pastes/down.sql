ALTER TABLE pastes DROP COLUMN encrypted;
