package pollpump

import (
	"io"
	"net"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// oneProcessor runs the test with GOMAXPROCS 1, as a server pinned to
// one core runs.
func oneProcessor(t *testing.T) {
	t.Helper()
	old := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// echo serves one connection on loopback that sends back each byte.
func echo(t *testing.T) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// yielder stands for the runtime's sweeper: busy, and yielding to the
// global run queue every few microseconds, until stop is closed.
func yielder(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		for end := time.Now().Add(20 * time.Microsecond); time.Now().Before(end); {
		}
		runtime.Gosched()
	}
}

// roundTrips is the median time of n one-byte round trips over c.
func roundTrips(t *testing.T, c net.Conn, n int) time.Duration {
	t.Helper()
	b := []byte{1}
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[n/2]
}

// While a goroutine yields as the sweeper does, a loopback round trip
// waits for the runtime's monitor to poll the network; with the pump
// running it waits a tick or two.
func TestPumpKeepsTheNetworkPolledWhileAGoroutineYields(t *testing.T) {
	oneProcessor(t)
	c := echo(t)
	roundTrips(t, c, 5) // connected, and the echo goroutine waiting

	stop := make(chan struct{})
	go yielder(stop)
	without := roundTrips(t, c, 15)

	p := newPump() // runs only as the test starts them
	defer p.Stop()
	var running atomic.Bool
	running.Store(true)
	go func() {
		p.run(time.Minute)
		running.Store(false)
	}()
	with := roundTrips(t, c, 15)
	close(stop)
	t.Logf("median round trip while a goroutine yields: %v without the pump, %v with it; %d worlds stopped", without, with, p.pumps.Load())

	// Relative, not absolute: on a busy machine (make test runs packages
	// side by side) both take longer.
	if without < 2*with {
		t.Errorf("without the pump a round trip took %v (median), with it %v: the runtime may now poll the network "+
			"while goroutines yield (golang/go#56060), and the pump may not be needed any more", without, with)
	}
	if p.pumps.Load() == 0 {
		t.Error("the pump never stopped the world")
	}
	// Once nothing yields, the network is polled on its own and the run ends.
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() && time.Now().Before(deadline) {
		time.Sleep(tick)
	}
	if running.Load() {
		t.Error("the pump still runs 5 s after the yielding goroutine stopped")
	}
}

// A collection starts a run; with the network idle it settles at once.
func TestPumpRunsAfterACollection(t *testing.T) {
	oneProcessor(t)
	p := Start()
	deadline := time.Now().Add(10 * time.Second)
	for p.runs.Load() < 2 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if n := p.runs.Load(); n < 2 {
		t.Fatalf("%d runs of the pump after collections for 10 s, want 2 or more", n)
	}
	p.Stop()
	runs := p.runs.Load()
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if n := p.runs.Load(); n != runs {
		t.Errorf("the pump ran %d times after Stop", n-runs)
	}
}

// With more than one processor an idle one polls the network: a
// collection starts no run.
func TestPumpIdleWithTwoProcessors(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	p := Start()
	defer p.Stop()
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if n := p.runs.Load(); n != 0 {
		t.Errorf("%d runs with two processors, want none", n)
	}
}

func TestStopNil(t *testing.T) {
	var p *Pump
	p.Stop()
}
