// Package pollpump keeps the network polled on a server given one
// processor (GOMAXPROCS 1) while the runtime's background sweeper runs.
//
// After each collection the runtime sweeps the heap in a goroutine of
// its own, which yields every few spans by putting itself on the global
// run queue. A processor looking for work takes the global queue before
// it polls the network, so with one processor the sweeper is picked again
// at once and goroutines whose connections became readable wait until the
// runtime's monitor polls, up to 10 ms later (golang/go#56060, open). On a
// server under scan load the sweep of a 250 MB heap took 6–9 ms at a
// stretch, every 2–3 s, and those were the longest waits of scans at half
// load (an execution trace: docs/benchmarks.md).
//
// The pump watches the collector's count of cycles (runtime/metrics),
// every 100 ms while the heap is far from its goal and every millisecond
// near it, and starts when a cycle has ended: every tick it writes a byte to
// a pipe that a goroutine of its own reads through the runtime's poller.
// A byte still unread a tick later means nobody polled meanwhile, and the
// pump stops and starts the world (runtime.ReadMemStats), which polls the
// network and queues what is ready ahead of the sweeper. It stops when
// the network has been polled on its own for a few ticks in a row. With
// more than one processor an idle one polls, and the pump does nothing.
package pollpump

import (
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// tick is how often a running pump checks that the network was
	// polled, and so about the longest a readable connection waits: a
	// closed loop of 16 connections polls every 0.6 ms or so on its own,
	// so a shorter tick would stop the world for nothing.
	tick = time.Millisecond
	// settle is how many ticks in a row the network must be polled
	// without the pump before it stops.
	settle = 4
	// longest bounds one run of the pump.
	longest = time.Second
	// far and near are how often the pump looks for a new cycle: near
	// once the heap has grown past nearGoal of its goal (at 125 MB/s, a
	// server's scans, far is 12 MB of a goal of some 250 MB).
	far, near = 100 * time.Millisecond, time.Millisecond
	nearGoal  = 0.75
)

// Pump is a running pump; Stop ends it.
type Pump struct {
	r, w    *os.File
	read    atomic.Int64 // bytes the probe has read
	sent    int64        // bytes written to w (by run, one at a time)
	stop    chan struct{}
	stopped atomic.Bool
	done    sync.WaitGroup

	runs, pumps atomic.Int64 // for tests: runs begun, worlds stopped
}

// Start starts a pump for this process, or returns nil when the
// operating system gives no pipe.
func Start() *Pump {
	p := newPump()
	if p != nil {
		p.done.Add(1)
		go p.loop()
	}
	return p
}

// newPump is a pump with its probe reading and nothing starting its
// runs.
func newPump() *Pump {
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	p := &Pump{r: r, w: w, stop: make(chan struct{})}
	p.done.Add(1)
	go p.probe()
	return p
}

// Stop ends the pump and waits for its goroutines. A nil pump is stopped.
func (p *Pump) Stop() {
	if p == nil || p.stopped.Swap(true) {
		return
	}
	close(p.stop)
	p.w.Close() // the probe's read ends
	p.done.Wait()
	p.r.Close()
}

// probe reads the pipe through the runtime's poller: what it has read
// is what the poller has seen.
func (p *Pump) probe() {
	defer p.done.Done()
	b := make([]byte, 512)
	for {
		n, err := p.r.Read(b)
		p.read.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// loop starts a run of the pump after each collection.
func (p *Pump) loop() {
	defer p.done.Done()
	m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	cycles := m[0].Value.Uint64()
	t := time.NewTimer(far)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		metrics.Read(m)
		if c := m[0].Value.Uint64(); c != cycles {
			cycles = c
			if runtime.GOMAXPROCS(0) == 1 {
				p.run(longest)
			}
		}
		if float64(m[2].Value.Uint64()) < nearGoal*float64(m[1].Value.Uint64()) {
			t.Reset(far)
		} else {
			t.Reset(near)
		}
	}
}

// run pumps until the network has been polled without it for settle
// ticks in a row, for at most limit, or until the pump stops.
func (p *Pump) run(limit time.Duration) {
	p.runs.Add(1)
	var ms runtime.MemStats
	t := time.NewTimer(tick)
	defer t.Stop()
	end := time.Now().Add(limit)
	for polled := 0; polled < settle && time.Now().Before(end); {
		if _, err := p.w.Write([]byte{1}); err != nil {
			return
		}
		p.sent++
		t.Reset(tick)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if p.read.Load() < p.sent {
			runtime.ReadMemStats(&ms) // stops the world; starting it polls the network
			p.pumps.Add(1)
			polled = 0
		} else {
			polled++
		}
	}
}
