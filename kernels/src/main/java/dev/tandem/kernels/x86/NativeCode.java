package dev.tandem.kernels.x86;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Machine code made callable: bytes copied into pages mapped writable, then turned read + execute
 * ({@code mmap} / {@code mprotect} through FFM: never writable and executable at once), and a
 * downcall handle to them. The pages are never unmapped: kernels live as long as the process.
 */
final class NativeCode {
    private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = libc("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MPROTECT = libc("mprotect", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private NativeCode() {}

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, fd))
                .orElseThrow(() -> new UnsupportedOperationException("libc has no " + name));
    }

    /** The code as a function of the given signature; heap arrays may be passed as segments. */
    static MethodHandle load(byte[] code, FunctionDescriptor signature) {
        long size = (code.length + 4095) & ~4095L;
        try {
            MemorySegment pages = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (pages.address() == -1L || pages.address() == 0L) {
                throw new UnsupportedOperationException("mmap of " + size + " bytes failed");
            }
            MemorySegment.copy(MemorySegment.ofArray(code), 0, pages.reinterpret(size), 0, code.length);
            int rc = (int) MPROTECT.invokeExact(pages, size, PROT_READ | PROT_EXEC);
            if (rc != 0) {
                throw new UnsupportedOperationException("mprotect(PROT_EXEC) failed: executable memory is not allowed here");
            }
            return LINKER.downcallHandle(pages, signature, Linker.Option.critical(true));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new UnsupportedOperationException(t);
        }
    }

    /** What a downcall threw, unchecked: runtime exceptions and errors as they are, anything else wrapped. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
