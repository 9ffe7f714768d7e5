-- A newer version waiting for the merchant to approve the scopes it adds.
ALTER TABLE installations ADD COLUMN pending_digest TEXT;
