package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: metadata with explicit value types, tensor infos, then the tensor data,
 * each tensor starting at a multiple of the alignment and padded with zeros.
 *
 * <p>Use: {@code put*} the metadata, {@link #addTensor} every tensor (name, type, GGML dims), then
 * {@link #write} with a {@link TensorFiller} that is handed each tensor's bytes in file order as a
 * writable, zero-filled mapping of the output file. Only one tensor is mapped at a time and nothing
 * of the tensor data passes through the heap, so a model of any size streams to disk. The file
 * is written beside {@code out} and moved into place only when complete.
 *
 * <p>Metadata values use the Java types {@link GgufFile} returns (see {@link #put}); the typed
 * {@code put*} methods fix the stored type so it is never guessed. Misuse (a duplicate key or
 * tensor, a value out of range for its type, a shape that is not whole blocks) throws
 * {@link IllegalArgumentException} at once, so a written file always reads back.
 */
public final class GgufWriter {
    public static final int VERSION = 3;
    static final int MAX_ARRAY_DEPTH = 8;

    /** Fills one tensor's bytes. {@code dst} is exactly {@code tensor.bytes()} long, zero-filled, writable. */
    @FunctionalInterface
    public interface TensorFiller {
        void fill(TensorInfo tensor, MemorySegment dst) throws IOException;
    }

    private record Entry(GgufValueType type, Object value) {}

    private record Decl(String name, GgmlType type, long[] dims, long bytes) {}

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final List<Decl> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    public GgufWriter putUint8(String key, int v) {
        return put(key, GgufValueType.UINT8, v);
    }

    public GgufWriter putInt8(String key, int v) {
        return put(key, GgufValueType.INT8, v);
    }

    public GgufWriter putUint16(String key, int v) {
        return put(key, GgufValueType.UINT16, v);
    }

    public GgufWriter putInt16(String key, int v) {
        return put(key, GgufValueType.INT16, v);
    }

    /** 0 to 2^32 − 1; reads back as a {@code Long}. */
    public GgufWriter putUint32(String key, long v) {
        return put(key, GgufValueType.UINT32, v);
    }

    public GgufWriter putInt32(String key, int v) {
        return put(key, GgufValueType.INT32, v);
    }

    /** The 64 bits of {@code v}, read as unsigned by other tools. */
    public GgufWriter putUint64(String key, long v) {
        return put(key, GgufValueType.UINT64, v);
    }

    public GgufWriter putInt64(String key, long v) {
        return put(key, GgufValueType.INT64, v);
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValueType.FLOAT32, v);
    }

    public GgufWriter putFloat64(String key, double v) {
        return put(key, GgufValueType.FLOAT64, v);
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, GgufValueType.BOOL, v);
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValueType.STRING, v);
    }

    public GgufWriter putArray(String key, GgufArray v) {
        return put(key, GgufValueType.ARRAY, v);
    }

    /**
     * Adds a key with an explicit type. {@code value} is what {@link GgufFile#metadata()} returns for
     * that type: an {@code Integer} or {@code Long} (range-checked) for the integer types,
     * {@code Float}, {@code Double}, {@code Boolean}, {@code String}, or a {@link GgufArray}.
     * Copying a key from another file: {@code put(key, file.typeOf(key), file.metadata().get(key))}.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key must not be empty");
        }
        if (type == null || value == null) {
            throw new IllegalArgumentException("metadata " + key + ": type and value must not be null");
        }
        if (metadata.containsKey(key)) {
            throw new IllegalArgumentException("duplicate metadata key " + key);
        }
        Object v = GgufEncoder.checkScalar(key, type, value);
        if (key.equals("general.alignment")) {
            long a = v instanceof Number n && !(v instanceof Float) && !(v instanceof Double) ? n.longValue() : -1;
            if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 20)) {
                throw new IllegalArgumentException("general.alignment " + value + " is not a power of two up to 1 MiB");
            }
        }
        metadata.put(key, new Entry(type, v));
        return this;
    }

    /** Removes a key added earlier; no effect when absent. */
    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The keys added so far, in order. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(metadata.keySet());
    }

    /**
     * Declares a tensor; data is written in declaration order. {@code dims} in GGML order: dims[0]
     * is contiguous, so a {@code rows × cols} matrix is {@code {cols, rows}}; dims[0] must be a whole
     * number of {@code type} blocks.
     */
    public GgufWriter addTensor(String name, GgmlType type, long... dims) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name must not be empty");
        }
        if (tensorNames.contains(name)) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        if (dims.length < 1 || dims.length > 4) {
            throw new IllegalArgumentException("tensor " + name + " has " + dims.length + " dimensions (1 to 4 allowed)");
        }
        long elements = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a dimension of size " + d);
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (dims[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + " has " + dims[0] + " columns, not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        tensors.add(new Decl(name, type, dims.clone(), type.bytesFor(elements)));
        tensorNames.add(name);
        return this;
    }

    /** The alignment the file will use: {@code general.alignment} when set, else 32. */
    public long alignment() {
        Entry e = metadata.get("general.alignment");
        return e == null ? GgufFile.DEFAULT_ALIGNMENT : ((Number) e.value).longValue();
    }

    static long align(long p, long alignment) {
        return (p + alignment - 1) / alignment * alignment;
    }

    /** Writes header, metadata, tensor infos and (through {@code filler}) every tensor's bytes to {@code out}. */
    public void write(Path out, TensorFiller filler) throws IOException {
        long alignment = alignment();
        GgufEncoder enc = new GgufEncoder();
        enc.u32(GgufFile.MAGIC);
        enc.u32(VERSION);
        enc.i64(tensors.size());
        enc.i64(metadata.size());
        for (Map.Entry<String, Entry> e : metadata.entrySet()) {
            enc.string(e.getKey());
            enc.u32(e.getValue().type.id);
            enc.value(e.getValue().type, e.getValue().value);
        }
        long[] offsets = new long[tensors.size()];
        long dataBytes = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Decl t = tensors.get(i);
            offsets[i] = dataBytes;
            dataBytes = align(dataBytes + t.bytes, alignment);
            enc.string(t.name);
            enc.u32(t.dims.length);
            for (long d : t.dims) {
                enc.i64(d);
            }
            enc.u32(t.type.id);
            enc.i64(offsets[i]);
        }
        byte[] header = enc.toByteArray();
        long dataOffset = align(header.length, alignment);
        long total = tensors.isEmpty() ? header.length : dataOffset + dataBytes;

        Path tmp = out.resolveSibling(out.getFileName() + ".partial");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(header), 0);
                for (int i = 0; i < tensors.size(); i++) {
                    Decl t = tensors.get(i);
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment dst = ch.map(FileChannel.MapMode.READ_WRITE, dataOffset + offsets[i], t.bytes, arena);
                        filler.fill(new TensorInfo(t.name, t.type, t.dims.clone(), offsets[i], t.bytes, dst), dst);
                    }
                }
                long size = ch.size();
                if (size < total) {
                    // zero padding after the header (no tensors mapped yet) or after the last tensor
                    writeFully(ch, ByteBuffer.allocate((int) (total - size)), size);
                }
            }
            try {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            p += ch.write(b, p);
        }
    }
}
