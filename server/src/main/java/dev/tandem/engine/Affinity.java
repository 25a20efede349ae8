package dev.tandem.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU pinning of the calling thread through Linux {@code sched_setaffinity(0, size, mask)} and
 * {@code sched_getaffinity} (pid 0 is the calling thread), called through FFM. Where the calls
 * are missing (not Linux) or refused, {@link #pin} says why instead of throwing, so a worker can
 * run unpinned with a warning.
 */
public final class Affinity {
    /** Bytes of the mask passed to the kernel: a glibc {@code cpu_set_t}, 1024 CPUs. */
    private static final int MASK_BYTES = 128;

    private static final MethodHandle SET;    // int sched_setaffinity(int pid, size_t size, const cpu_set_t *mask)
    private static final MethodHandle GET;    // int sched_getaffinity(int pid, size_t size, cpu_set_t *mask)
    private static final StructLayout STATE;  // the call state holding errno
    private static final VarHandle ERRNO;
    private static final String UNAVAILABLE;  // why the calls cannot be made here, or null

    static {
        MethodHandle set = null, get = null;
        StructLayout state = null;
        VarHandle errno = null;
        String why = null;
        try {
            Linker linker = Linker.nativeLinker();
            state = Linker.Option.captureStateLayout();
            errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS);
            Linker.Option capture = Linker.Option.captureCallState("errno");
            set = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(), fd, capture);
            get = linker.downcallHandle(linker.defaultLookup().find("sched_getaffinity").orElseThrow(), fd, capture);
        } catch (RuntimeException | LinkageError e) {
            why = "sched_setaffinity is not available here (" + e + ")";
        }
        SET = set;
        GET = get;
        STATE = state;
        ERRNO = errno;
        UNAVAILABLE = why;
    }

    private Affinity() {}

    /** The outcome of one {@link #pin}: the CPUs the thread may run on afterwards, or why pinning failed. */
    public record Result(List<Integer> cpus, String error) {
        public boolean pinned() {
            return error == null;
        }
    }

    /** Pins the calling thread to {@code cpus}; reads the mask back. Never throws for a refusal. */
    public static Result pin(List<Integer> cpus) {
        if (UNAVAILABLE != null) {
            return new Result(List.of(), UNAVAILABLE);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= MASK_BYTES * 8) {
                    return new Result(current(), "CPU " + cpu + " is outside 0.." + (MASK_BYTES * 8 - 1));
                }
                long word = mask.getAtIndex(ValueLayout.JAVA_LONG, cpu / 64);
                mask.setAtIndex(ValueLayout.JAVA_LONG, cpu / 64, word | 1L << (cpu % 64));
            }
            MemorySegment state = arena.allocate(STATE);
            int rc = (int) SET.invokeExact(state, 0, (long) MASK_BYTES, mask);
            if (rc != 0) {
                return new Result(current(), "sched_setaffinity(" + cpus + ") refused, errno " + (int) ERRNO.get(state, 0L));
            }
            return new Result(current(), null);
        } catch (Throwable t) {
            return new Result(List.of(), "sched_setaffinity failed: " + t);
        }
    }

    /** The CPUs the calling thread may run on (empty when that cannot be read). */
    public static List<Integer> current() {
        if (UNAVAILABLE != null) {
            return List.of();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            MemorySegment state = arena.allocate(STATE);
            int rc = (int) GET.invokeExact(state, 0, (long) MASK_BYTES, mask);
            if (rc != 0) {
                return List.of();
            }
            List<Integer> out = new ArrayList<>();
            for (int w = 0; w < MASK_BYTES / 8; w++) {
                long word = mask.getAtIndex(ValueLayout.JAVA_LONG, w);
                for (int b = 0; b < 64; b++) {
                    if ((word >>> b & 1) != 0) {
                        out.add(w * 64 + b);
                    }
                }
            }
            return List.copyOf(out);
        } catch (Throwable t) {
            return List.of();
        }
    }
}
