package dev.tandem.kernels.x86;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** What this processor can run, from the kernel's {@code /proc/cpuinfo} (Linux on x86-64 only). */
public record Cpu(boolean x86Linux, boolean avx2, boolean fma, boolean f16c, boolean avxVnni, boolean avx512Vnni) {

    /** This machine, read once. */
    public static final Cpu THIS = detect();

    /** Whether the native integer kernels can run: AVX2, FMA and F16C (AVX-VNNI makes them faster). */
    public boolean nativeKernels() {
        return x86Linux && avx2 && fma && f16c;
    }

    private static Cpu detect() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!(arch.equals("amd64") || arch.equals("x86_64")) || !os.contains("linux")) {
            return new Cpu(false, false, false, false, false, false);
        }
        Set<String> flags;
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            flags = lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")))
                    .orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            flags = Set.of();
        }
        return new Cpu(true, flags.contains("avx2"), flags.contains("fma"), flags.contains("f16c"), flags.contains("avx_vnni"),
                flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512_vnni"));
    }

    @Override
    public String toString() {
        if (!x86Linux) {
            return "not x86-64 Linux";
        }
        // Stream.of, not Set.of: two absent features would be two equal "" elements, which Set.of rejects
        String present = Stream.of(avx2 ? "avx2" : "", fma ? "fma" : "", f16c ? "f16c" : "", avxVnni ? "avx_vnni" : "",
                avx512Vnni ? "avx512_vnni" : "").filter(s -> !s.isEmpty()).collect(Collectors.joining(" "));
        return present.isEmpty() ? "none of avx2 fma f16c avx_vnni avx512_vnni" : present;
    }
}
