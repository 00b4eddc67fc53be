package server

// LoseDataLock lets go of the data folder as the end of the process would (kill -9), while
// the node goes on running, so that a test can start a node on the same data as after a
// crash (sqlite.Own).
func (m *Main) LoseDataLock() error {
	if m.releaseData == nil {
		return nil
	}
	err := m.releaseData()
	m.releaseData = nil
	return err
}
