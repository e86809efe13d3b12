package kiosk_test

import (
	"os"
	"testing"
)

// TestMain stops the Chromium the browser tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	browser.Close()
	os.Exit(code)
}
