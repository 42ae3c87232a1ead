// Package record holds the checks and encodings that the SQLite and
// PostgreSQL stores share, so that both treat records alike.
package record
