// Package server is the pixauto reference server.
package server
