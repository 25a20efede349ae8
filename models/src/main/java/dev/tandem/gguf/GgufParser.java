package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the header, metadata and tensor infos from a mapped file, checking every number. */
final class GgufParser {
    private static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_DEPTH = GgufWriter.MAX_ARRAY_DEPTH;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String file;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    private String context = "header";

    GgufParser(String file, MemorySegment seg) {
        this.file = file;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    GgufFile parse(Path path, Arena arena) {
        if (size < 4) {
            throw fail("too short to be a GGUF file (" + size + " bytes)");
        }
        int magic = seg.get(I32, 0);
        if (magic != GgufFile.MAGIC) {
            throw fail(String.format("not a GGUF file (magic %08x, expected 'GGUF')", magic));
        }
        pos = 4;
        long version = u32();
        if (version != 2 && version != 3) {
            String hint = version == 1 ? " (GGUF v1 is obsolete; re-convert the model)"
                    : Integer.reverseBytes((int) version) == 3 || Integer.reverseBytes((int) version) == 2 ? " (a big-endian file)" : "";
            throw fail("unsupported GGUF version " + version + hint + "; tandem reads versions 2 and 3");
        }
        long tensorCount = i64();
        long kvCount = i64();
        // Every key/value takes at least 13 bytes and every tensor info 32, so a count beyond the
        // file's size is absurd (not a truncation). Smaller counts are safe to loop over: each entry
        // consumes bytes, and a file that ends early is reported where it ends.
        checkCount(kvCount, 13, "metadata");
        checkCount(tensorCount, 32, "tensor");
        Map<String, Object> meta = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new java.util.HashMap<>();
        for (long i = 0; i < kvCount; i++) {
            context = "metadata entry " + i;
            String key = string();
            context = "metadata " + show(key);
            GgufValueType type = valueType(u32());
            Object value = value(type, 0);
            if (meta.putIfAbsent(key, value) != null) {
                throw fail("duplicate metadata key " + show(key));
            }
            types.put(key, type);
        }
        long alignment = GgufFile.DEFAULT_ALIGNMENT;
        Object a = meta.get("general.alignment");
        if (a != null) {
            if (!(a instanceof Long) && !(a instanceof Integer)) {
                throw fail("general.alignment should be an integer, not " + a.getClass().getSimpleName());
            }
            alignment = ((Number) a).longValue();
            if (alignment <= 0 || Long.bitCount(alignment) != 1 || alignment > (1 << 20)) {
                throw fail("general.alignment " + alignment + " is not a power of two up to 1 MiB");
            }
        }
        record Raw(String name, GgmlType type, long[] dims, long offset, long bytes) {}
        java.util.List<Raw> raws = new java.util.ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            context = "tensor info " + i;
            String name = string();
            String label = show(name);
            context = "tensor " + label;
            if (!names.add(name)) {
                throw fail("duplicate tensor name " + label);
            }
            long nDims = u32();
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw fail("tensor " + label + " has " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
            }
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = i64();
                if (dims[d] <= 0) {
                    throw fail("tensor " + label + " has dimension " + d + " of size " + Long.toUnsignedString(dims[d]));
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw fail("tensor " + label + " has an absurd element count (shape overflows)");
                }
            }
            long typeId = u32();
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw fail("tensor " + label + " has unknown type id " + typeId);
            }
            if (dims[0] % type.blockSize != 0) {
                throw fail("tensor " + label + " has " + dims[0] + " columns, not a multiple of the " + type + " block size " + type.blockSize);
            }
            long bytes;
            try {
                bytes = type.bytesFor(elements);
            } catch (ArithmeticException | IllegalArgumentException e) {
                throw fail("tensor " + label + " has an absurd size");
            }
            long offset = i64();
            if (offset < 0 || offset % alignment != 0) {
                throw fail("tensor " + label + " offset " + Long.toUnsignedString(offset) + " is not aligned to " + alignment);
            }
            raws.add(new Raw(name, type, dims, offset, bytes));
        }
        context = "tensor data";
        long dataOffset = align(pos, alignment);
        if (tensorCount > 0 && dataOffset > size) {
            throw fail("truncated: tensor data would start at byte " + dataOffset + " past the end (" + size + " bytes)");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Raw r : raws) {
            long start = dataOffset + r.offset;
            if (r.offset > size || start > size || r.bytes > size - start) {
                throw fail("tensor " + show(r.name) + " (" + r.bytes + " bytes at data offset " + r.offset + ") extends past the end of the file (" + size + " bytes); truncated?");
            }
            MemorySegment data = seg.asSlice(start, r.bytes);
            tensors.put(r.name, new TensorInfo(r.name, r.type, r.dims, r.offset, r.bytes, data));
        }
        // offsets and sizes are now within the file, so these sums cannot overflow
        Raw[] byOffset = raws.toArray(new Raw[0]);
        java.util.Arrays.sort(byOffset, java.util.Comparator.comparingLong(Raw::offset));
        for (int i = 1; i < byOffset.length; i++) {
            Raw prev = byOffset[i - 1];
            if (byOffset[i].offset < prev.offset + prev.bytes) {
                throw fail("tensor " + show(byOffset[i].name) + " (data offset " + byOffset[i].offset + ") overlaps tensor "
                        + show(prev.name) + " (" + prev.bytes + " bytes at data offset " + prev.offset + ")");
            }
        }
        return new GgufFile(path, (int) version, Collections.unmodifiableMap(meta), types, Collections.unmodifiableMap(tensors),
                alignment, dataOffset, arena);
    }

    /** A count whose entries (at least {@code minBytes} each) cannot fit the file: absurd, or a cut-off file. */
    private void checkCount(long count, int minBytes, String what) {
        if (count >= 0 && count <= size) {
            return; // the loop over entries reports a file that ends early where it ends
        }
        if (count > 0 && count <= 0xFFFF_FFFFL) {
            throw fail("truncated or corrupt: " + what + " count " + count + " needs at least " + count * minBytes
                    + " bytes but the file has " + size);
        }
        throw fail("absurd " + what + " count " + Long.toUnsignedString(count) + " for a file of " + size + " bytes");
    }

    private static long align(long p, long alignment) {
        return (p + alignment - 1) / alignment * alignment;
    }

    private long remaining() {
        return size - pos;
    }

    private void need(long n, String what) {
        if (n < 0 || n > size - pos) {
            throw fail("truncated: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes at offset " + pos + " but only " + (size - pos) + " remain");
        }
    }

    private GgufException fail(String problem) {
        return new GgufException(show(file + ": " + problem + (problem.startsWith("truncated") ? " (in " + context + ")" : ""), 1000));
    }

    /** A name from the file as it may appear in a one-line message: controls escaped, at most 64 characters. */
    private static String show(String s) {
        return show(s, 64);
    }

    private static String show(String s, int max) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < s.length() && b.length() < max) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            boolean control = cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || Character.getType(cp) == Character.SURROGATE;
            if (control) {
                b.append(String.format("\\x%02x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        }
        return i < s.length() ? b.append('…').toString() : b.toString();
    }

    private GgufValueType valueType(long id) {
        GgufValueType t = GgufValueType.byId(id);
        if (t == null) {
            throw fail("unknown metadata value type " + id + " in " + context);
        }
        return t;
    }

    private long u32() {
        need(4, "a 32-bit integer");
        long v = Integer.toUnsignedLong(seg.get(I32, pos));
        pos += 4;
        return v;
    }

    private long i64() {
        need(8, "a 64-bit integer");
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    private String string() {
        long len = i64();
        if (len < 0 || len > remaining()) {
            throw fail("string length " + Long.toUnsignedString(len) + " at offset " + (pos - 8) + " exceeds the file (" + remaining() + " bytes remain) in " + context);
        }
        byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            // llama.cpp keeps such strings as raw bytes; a few real vocabularies hold invalid UTF-8 pieces.
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    private Object value(GgufValueType type, int depth) {
        switch (type) {
            case UINT8: need(1, "a uint8"); return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos++));
            case INT8: need(1, "an int8"); return (int) seg.get(ValueLayout.JAVA_BYTE, pos++);
            case UINT16: { need(2, "a uint16"); int v = Short.toUnsignedInt(seg.get(I16, pos)); pos += 2; return v; }
            case INT16: { need(2, "an int16"); int v = seg.get(I16, pos); pos += 2; return v; }
            case UINT32: return u32();
            case INT32: { need(4, "an int32"); int v = seg.get(I32, pos); pos += 4; return v; }
            case FLOAT32: { need(4, "a float32"); float v = seg.get(F32, pos); pos += 4; return v; }
            case BOOL: {
                need(1, "a bool");
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) {
                    throw fail("bool value " + b + " is neither 0 nor 1 in " + context);
                }
                return b == 1;
            }
            case STRING: return string();
            case UINT64, INT64: return i64();
            case FLOAT64: { need(8, "a float64"); double v = seg.get(F64, pos); pos += 8; return v; }
            case ARRAY: return array(depth + 1);
            default: throw new AssertionError(type);
        }
    }

    private GgufArray array(int depth) {
        if (depth > MAX_ARRAY_DEPTH) {
            throw fail("arrays nested deeper than " + MAX_ARRAY_DEPTH + " in " + context);
        }
        GgufValueType et = valueType(u32());
        long n = i64();
        if (n < 0 || n > remaining() / et.minBytes) {
            throw fail("array of " + Long.toUnsignedString(n) + " " + et + " values exceeds the file (" + remaining() + " bytes remain) in " + context);
        }
        int count = (int) n;
        return switch (et) {
            case UINT8, INT8 -> {
                byte[] v = seg.asSlice(pos, count).toArray(ValueLayout.JAVA_BYTE);
                pos += count;
                yield new GgufArray(et, v);
            }
            case BOOL -> {
                byte[] v = seg.asSlice(pos, count).toArray(ValueLayout.JAVA_BYTE);
                for (byte b : v) {
                    if (b != 0 && b != 1) {
                        throw fail("bool value " + b + " is neither 0 nor 1 in " + context);
                    }
                }
                pos += count;
                yield new GgufArray(et, v);
            }
            case UINT16, INT16 -> {
                short[] v = seg.asSlice(pos, 2L * count).toArray(I16);
                pos += 2L * count;
                yield new GgufArray(et, v);
            }
            case UINT32, INT32 -> {
                int[] v = seg.asSlice(pos, 4L * count).toArray(I32);
                pos += 4L * count;
                yield new GgufArray(et, v);
            }
            case FLOAT32 -> {
                float[] v = seg.asSlice(pos, 4L * count).toArray(F32);
                pos += 4L * count;
                yield new GgufArray(et, v);
            }
            case UINT64, INT64 -> {
                long[] v = seg.asSlice(pos, 8L * count).toArray(I64);
                pos += 8L * count;
                yield new GgufArray(et, v);
            }
            case FLOAT64 -> {
                double[] v = seg.asSlice(pos, 8L * count).toArray(F64);
                pos += 8L * count;
                yield new GgufArray(et, v);
            }
            case STRING -> {
                String[] v = new String[count];
                for (int i = 0; i < count; i++) {
                    v[i] = string();
                }
                yield new GgufArray(et, v);
            }
            case ARRAY -> {
                GgufArray[] v = new GgufArray[count];
                for (int i = 0; i < count; i++) {
                    v[i] = array(depth + 1);
                }
                yield new GgufArray(et, v);
            }
        };
    }
}
