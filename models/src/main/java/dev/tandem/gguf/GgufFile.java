package dev.tandem.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3), opened read-only. The whole file is mapped once into a
 * long-lived shared {@link Arena} — weights are paged in by the OS as kernels touch them, never
 * copied onto the heap, and files past 2 GiB work — and stays mapped until {@link #close}.
 * Every count, length, offset and size read from the file is checked against the file before it
 * is used; a problem is a {@link GgufException} whose one-line message names the file.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> types;
    private final Map<String, TensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;
    private final Arena arena;

    GgufFile(Path path, int version, Map<String, Object> metadata, Map<String, GgufValueType> types,
                     Map<String, TensorInfo> tensors, long alignment, long dataOffset, Arena arena) {
        this.path = path;
        this.version = version;
        this.metadata = metadata;
        this.types = types;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.arena = arena;
    }

    /** Opens and validates a GGUF file. */
    public static GgufFile open(Path path) {
        String name = path.toString();
        if (!Files.exists(path)) {
            throw new GgufException(name + ": no such file");
        }
        if (Files.isDirectory(path)) {
            throw new GgufException(name + ": is a directory, not a GGUF file");
        }
        if (!Files.isRegularFile(path)) {
            throw new GgufException(name + ": is not a regular file"); // a FIFO or device would block or never end
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new GgufException(name + ": empty file (0 bytes), not a GGUF file");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufParser(name, seg).parse(path, arena);
        } catch (GgufException e) {
            arena.close();
            throw e;
        } catch (NoSuchFileException e) {
            arena.close();
            throw new GgufException(name + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new GgufException(name + ": cannot read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    /** Byte offset of the tensor data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata in file order. Values: Integer/Long/Float/Double/Boolean/String/{@link GgufArray}. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** All tensors in file order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The value type a key is stored with (e.g. UINT32 for a {@code Long} value), or null when absent. */
    public GgufValueType typeOf(String key) {
        return types.get(key);
    }

    /** The tensor with this name, or a clear error when the file has none. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException(path + ": missing tensor " + name);
        }
        return t;
    }

    public TensorInfo tensorOrNull(String name) {
        return tensors.get(name);
    }

    public String getString(String key) {
        return get(key, String.class, "a string");
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    /** An integer-valued key of any integer type. */
    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l) {
            return l;
        }
        throw wrongType(key, v, "an integer");
    }

    public long getLong(String key, long fallback) {
        return has(key) ? getLong(key) : fallback;
    }

    /** An integer-valued key that must fit a positive-or-zero int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new GgufException(path + ": metadata " + key + " = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    /** A float- or integer-valued key. */
    public double getDouble(String key) {
        Object v = require(key);
        if (v instanceof Number n && !(v instanceof Byte)) {
            return n.doubleValue();
        }
        throw wrongType(key, v, "a number");
    }

    public double getDouble(String key, double fallback) {
        return has(key) ? getDouble(key) : fallback;
    }

    public boolean getBoolean(String key, boolean fallback) {
        return has(key) ? get(key, Boolean.class, "a bool") : fallback;
    }

    public GgufArray getArray(String key) {
        return get(key, GgufArray.class, "an array");
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufException(path + ": missing metadata " + key);
        }
        return v;
    }

    private <T> T get(String key, Class<T> c, String what) {
        Object v = require(key);
        if (!c.isInstance(v)) {
            throw wrongType(key, v, what);
        }
        return c.cast(v);
    }

    private GgufException wrongType(String key, Object v, String what) {
        return new GgufException(path + ": metadata " + key + " should be " + what + ", not " + v.getClass().getSimpleName());
    }

    /** Unmaps the file. Tensor segments must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
