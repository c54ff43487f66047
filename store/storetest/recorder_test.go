package storetest

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// recorder is a tester that records failures instead of failing, so that a test can
// run the suite against a backend that must fail it. It takes TempDir, Context and
// the like from the real test it wraps; Fatal and FailNow end the subtest's goroutine,
// as they do in package testing.
type recorder struct {
	testing.TB // the real test; its failure methods are all overridden
	name       string
	log        *failures
	parent     *recorder

	mu       sync.Mutex
	failed   bool
	skipped  bool
	cleanups []func()
}

// failures are the messages of every failed subtest, by name.
type failures struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func newRecorder(tb testing.TB) *recorder {
	return &recorder{TB: tb, name: "suite", log: &failures{msgs: map[string][]string{}}}
}

func (r *recorder) Name() string              { return r.name }
func (r *recorder) Helper()                   {}
func (r *recorder) Log(...any)                {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Error(args ...any)         { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.fail(fmt.Sprintf(f, a...)) }
func (r *recorder) Fail()                     { r.fail("Fail") }
func (r *recorder) FailNow()                  { r.fail("FailNow"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)         { r.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(f string, a ...any) {
	r.fail(fmt.Sprintf(f, a...))
	runtime.Goexit()
}
func (r *recorder) Skip(...any)          { r.SkipNow() }
func (r *recorder) Skipf(string, ...any) { r.SkipNow() }
func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, f)
	r.mu.Unlock()
}

func (r *recorder) fail(msg string) {
	r.log.mu.Lock()
	r.log.msgs[r.name] = append(r.log.msgs[r.name], msg)
	r.log.mu.Unlock()
	for p := r; p != nil; p = p.parent {
		p.mu.Lock()
		p.failed = true
		p.mu.Unlock()
	}
}

// Run runs f as a subtest on a goroutine of its own and waits for it, cleanups
// included.
func (r *recorder) Run(name string, f func(t tester)) bool {
	sub := &recorder{TB: r.TB, name: r.name + "/" + name, log: r.log, parent: r}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for i := len(sub.cleanups) - 1; i >= 0; i-- {
				sub.cleanups[i]()
			}
		}()
		f(sub)
	}()
	<-done
	return !sub.Failed()
}

// failedTests lists the subtests that recorded a failure of their own.
func (f *failures) failedTests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for name := range f.msgs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// report is every recorded failure, for a test's message.
func (f *failures) report() string {
	var b strings.Builder
	for _, name := range f.failedTests() {
		f.mu.Lock()
		msgs := f.msgs[name]
		f.mu.Unlock()
		for _, m := range msgs {
			fmt.Fprintf(&b, "\n  %s: %s", name, m)
		}
	}
	return b.String()
}

// TestRecorder checks the recorder itself: a failure is recorded under its subtest and
// marks the parents failed, Fatal stops the subtest, cleanups run, and a passing
// subtest records nothing.
func TestRecorder(t *testing.T) {
	r := newRecorder(t)
	var after, cleaned bool
	r.Run("a", func(t tester) {
		t.Run("pass", func(t tester) {})
		t.Run("fatal", func(t tester) {
			t.Cleanup(func() { cleaned = true })
			t.Fatalf("stop %d", 1)
			after = true
		})
	})
	r.Run("b", func(t tester) { t.Skip("no") })
	if got := r.log.failedTests(); len(got) != 1 || got[0] != "suite/a/fatal" {
		t.Errorf("failed tests = %v, want [suite/a/fatal]", got)
	}
	if !r.Failed() || after || !cleaned {
		t.Errorf("parent failed = %v, code after Fatalf ran = %v, cleanup ran = %v", r.Failed(), after, cleaned)
	}
	if msgs := r.log.msgs["suite/a/fatal"]; len(msgs) != 1 || msgs[0] != "stop 1" {
		t.Errorf("messages = %q", msgs)
	}
}
