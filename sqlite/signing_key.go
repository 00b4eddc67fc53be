package sqlite

import "context"

// SigningKey implements workspace.Store: the first key stored under name wins.
func (s *Store) SigningKey(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO signing_keys (name, key) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, err
	}
	var key []byte
	if err := s.write.QueryRowContext(ctx, `SELECT key FROM signing_keys WHERE name = ?`, name).Scan(&key); err != nil {
		return nil, err
	}
	return key, nil
}
