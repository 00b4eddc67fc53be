package bench

import (
	"testing"
	"time"
)

func TestPercentileAndSum(t *testing.T) {
	s := Samples{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if s.Percentile(50) != 5 || s.Percentile(99) != 10 || s.Percentile(10) != 1 {
		t.Fatalf("percentiles: p10 %v p50 %v p99 %v", s.Percentile(10), s.Percentile(50), s.Percentile(99))
	}
	sum := Sum(Samples{3, 1, 2}, Samples{time.Duration(30), 10, 20})
	if sum[0] != 11 || sum[1] != 22 || sum[2] != 33 {
		t.Fatalf("Sum = %v", sum)
	}
}

func TestStepsAndMean(t *testing.T) {
	var s Steps
	for i := range 3 {
		_ = s.Time("a", func() error { return nil })
		_ = s.Time("b", func() error { time.Sleep(time.Duration(i+1) * time.Millisecond); return nil })
	}
	if len(s.Names) != 2 || s.Names[0] != "a" || len(s.By["b"]) != 3 || len(s.Totals()) != 3 {
		t.Fatalf("steps: %+v", s)
	}
	// Sleeps give lower bounds only: a busy machine may stretch any step.
	if s.Spent() < 6*time.Millisecond {
		t.Fatalf("spent %v, want at least the 6 ms slept", s.Spent())
	}
	for i, total := range s.Totals() {
		if want := time.Duration(i+1) * time.Millisecond; total < want || s.Totals("b")[i] < want {
			t.Fatalf("round %d: total %v, b %v; want at least %v", i, total, s.Totals("b")[i], want)
		}
	}
	if m := (Samples{1, 2, 6}).Mean(); m != 3 {
		t.Fatalf("Mean = %v", m)
	}
}
