package dev.tandem.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** How much CPU other processes took during a run: /proc/stat busy time less this process's CPU time. */
final class CpuLoad {
    private final long busy0;
    private final long total0;
    private final long self0;

    private CpuLoad(long busy0, long total0, long self0) {
        this.busy0 = busy0;
        this.total0 = total0;
        this.self0 = self0;
    }

    static CpuLoad start() {
        long[] s = stat();
        return new CpuLoad(s[0], s[1], selfNanos());
    }

    /** Share of all CPU time (0..1) used by other processes since {@link #start}; -1 when unknown. */
    double othersShare() {
        long[] s = stat();
        if (s[1] <= total0) {
            return -1;
        }
        double tick = 1e9 / 100; // USER_HZ
        double busy = (s[0] - busy0) * tick, total = (s[1] - total0) * tick;
        double self = selfNanos() - self0;
        return Math.max(0, (busy - self) / total);
    }

    private static long selfNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /** {busy, total} jiffies from the first line of /proc/stat, or zeros. */
    private static long[] stat() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0, idle = 0;
            for (int i = 1; i < f.length; i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i == 4 || i == 5) {
                    idle += v; // idle, iowait
                }
            }
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}
