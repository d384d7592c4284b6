package train

import (
	"bufio"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// featureMemoryLimit bounds the encoded features held at once (training,
// validation and monitor rows, dense float32): half the machine's memory,
// leaving the rest to the model, the optimizer and the rest of the process.
// Without it a large encoder_bits (20: 5000 rows x 2^20 x 4 bytes = 21 GB)
// passes validation and then exhausts the machine while encoding.
var featureMemoryLimit = physicalMemory() / 2

// physicalMemory reads MemTotal from /proc/meminfo (8 GiB where it cannot).
func physicalMemory() int64 {
	const fallback = 8 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return fallback
}

// checkFeatureMemory rejects encoding rows queries into width features
// when they would not fit in featureMemoryLimit.
func checkFeatureMemory(rows, width int) error {
	need := int64(rows) * int64(width) * 4
	if need <= featureMemoryLimit {
		return nil
	}
	return fmt.Errorf("setting encoder_bits=%d: %d queries x 2^%d features x 4 bytes = %.1f GiB of encoded features, over the %.1f GiB limit (half this machine's memory); lower encoder_bits or samples_per_task",
		bits.Len(uint(width))-1, rows, bits.Len(uint(width))-1, gib(need), gib(featureMemoryLimit))
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }
