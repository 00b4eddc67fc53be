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
