package dev.tandem.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte positions of the fields of a valid GGUF file, found by walking it per the specification
 * (independently of {@link GgufFile}), so tests can damage one field precisely.
 */
final class GgufLayout {
    /** Position of a length or count field and how wide it is (4 or 8 bytes). */
    record Field(String what, int pos, int width) {}

    /** Where a key's pieces are: its length field, its type id, its value. */
    record Kv(String key, int keyLenPos, int typePos, int valuePos) {}

    /** Where a tensor info's pieces are. */
    record Tensor(String name, int namePos, int nDimsPos, int typePos, int offsetPos) {}

    final int tensorCountPos = 8;
    final int kvCountPos = 16;
    final Map<String, Kv> kvs = new LinkedHashMap<>();
    final List<Tensor> tensors = new ArrayList<>();
    /** Every string-length, array-length, count, dims and offset field. */
    final List<Field> fields = new ArrayList<>();
    final int headerEnd;

    private final ByteBuffer b;

    GgufLayout(byte[] file) {
        b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        fields.add(new Field("tensor count", 8, 8));
        fields.add(new Field("kv count", 16, 8));
        long nTensors = b.getLong(8);
        long nKv = b.getLong(16);
        b.position(24);
        for (long i = 0; i < nKv; i++) {
            int keyLenPos = b.position();
            String key = string("key length");
            int typePos = b.position();
            int type = b.getInt();
            kvs.put(key, new Kv(key, keyLenPos, typePos, b.position()));
            skipValue(type);
        }
        for (long i = 0; i < nTensors; i++) {
            int namePos = b.position();
            String name = string("tensor name length");
            int nDimsPos = b.position();
            fields.add(new Field("n dims of " + name, nDimsPos, 4));
            int nDims = b.getInt();
            for (int d = 0; d < nDims; d++) {
                fields.add(new Field("dim " + d + " of " + name, b.position(), 8));
                b.getLong();
            }
            int typePos = b.position();
            fields.add(new Field("type of " + name, typePos, 4));
            b.getInt();
            int offsetPos = b.position();
            fields.add(new Field("offset of " + name, offsetPos, 8));
            b.getLong();
            tensors.add(new Tensor(name, namePos, nDimsPos, typePos, offsetPos));
        }
        headerEnd = b.position();
    }

    Kv kv(String key) {
        return kvs.get(key);
    }

    private String string(String what) {
        fields.add(new Field(what, b.position(), 8));
        int n = (int) b.getLong();
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private void skipValue(int type) {
        switch (type) {
            case 0, 1, 7 -> b.position(b.position() + 1);
            case 2, 3 -> b.position(b.position() + 2);
            case 4, 5, 6 -> b.position(b.position() + 4);
            case 10, 11, 12 -> b.position(b.position() + 8);
            case 8 -> string("string length");
            case 9 -> {
                fields.add(new Field("array type", b.position(), 4));
                int et = b.getInt();
                fields.add(new Field("array length", b.position(), 8));
                long n = b.getLong();
                for (long i = 0; i < n; i++) {
                    skipValue(et);
                }
            }
            default -> throw new IllegalStateException("not a valid file: value type " + type);
        }
    }
}
