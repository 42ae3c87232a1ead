package server

// SetExportPageSize makes the exports read n charges at a time, until the
// returned function restores the size. Not safe while exports run.
func SetExportPageSize(n int) (restore func()) {
	old := exportPageSize
	exportPageSize = n
	return func() { exportPageSize = old }
}
