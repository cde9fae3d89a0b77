package adoptionclient_test

// Integration tests against a real adoptiond (real SQLite store, real fitter
// plugins, the bundled MistralAI data), started once by TestMain on a free
// port. The build directory comes from $ADOPTION_BUILD_DIR (default: the
// repository's build/).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	serverAddr string // host:port of the adoptiond TestMain started
	buildDir   string
	dataDir    string // the bundled CSV files
)

const (
	bundledSeries = 3130 // rows of data/hf-finetunes-2025-02-18/*.csv
	mistralSeries = 23   // rows of its MistralAI.csv
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	buildDir = os.Getenv("ADOPTION_BUILD_DIR")
	if buildDir == "" {
		buildDir = filepath.Join("..", "..", "build")
	}
	buildDir, _ = filepath.Abs(buildDir)
	dataDir, _ = filepath.Abs(filepath.Join("..", "..", "data", "hf-finetunes-2025-02-18"))
	daemon := filepath.Join(buildDir, "engine", "adoptiond")
	if _, err := os.Stat(daemon); err != nil {
		fmt.Fprintf(os.Stderr, "adoptiond not built (%v); build the server or set ADOPTION_BUILD_DIR\n", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "adoption-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	var stop func()
	serverAddr, stop, err = startServer(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()

	// All 3,130 bundled series (about 0.3 s): the comparisons below use the
	// 23 MistralAI ones; a comparison over all of them takes seconds, which
	// the deadline and cancellation tests rely on.
	csvs, _ := filepath.Glob(filepath.Join(dataDir, "*.csv"))
	if len(csvs) == 0 {
		fmt.Fprintf(os.Stderr, "no CSV files in %s\n", dataDir)
		return 1
	}
	load := exec.Command(filepath.Join(buildDir, "clients", "cli", "adoptctl"),
		append([]string{"--server", serverAddr, "load-csv"}, csvs...)...)
	if out, err := load.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "adoptctl load-csv: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// startServer starts adoptiond (with extra flags) on 127.0.0.1:0 with a
// SQLite file in dir, waits for its ready file and returns its address.
// stop sends SIGTERM and waits (SIGKILL after 15 s); close clients first.
func startServer(dir string, extra ...string) (addr string, stop func(), err error) {
	daemon := filepath.Join(buildDir, "engine", "adoptiond")
	ready := filepath.Join(dir, "ready")
	logPath := filepath.Join(dir, "adoptiond.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, err
	}
	args := append([]string{"--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "adoption.db"),
		"--plugins", filepath.Join(buildDir, "plugins"), "--ready-file", ready}, extra...)
	cmd := exec.Command(daemon, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, fmt.Errorf("start adoptiond: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if os.Getenv("ADOPTION_TEST_SERVER_LOG") != "" {
			if b, err := os.ReadFile(logPath); err == nil {
				os.Stderr.Write(b)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// Written atomically (rename); the first line is the gRPC address
		// (a second one, the metrics address, only with --metrics-listen).
		if b, err := os.ReadFile(ready); err == nil {
			if addr := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]); addr != "" {
				return addr, stop, nil
			}
		}
		select {
		case err := <-exited:
			logFile.Close()
			b, _ := os.ReadFile(logPath)
			return "", nil, fmt.Errorf("adoptiond exited before ready: %v\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	return "", nil, fmt.Errorf("adoptiond not ready after 20 s (log: %s)", logPath)
}

// testContext is the per-test bound on any call.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
