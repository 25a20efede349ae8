package dev.tandem.kernels;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** The registry of formats with kernels: which GGML types tandem can compute with. */
public final class Formats {
    private static final Map<GgmlType, Format> FORMATS = new EnumMap<>(GgmlType.class);

    static {
        register(F32.INSTANCE);
        register(F16.INSTANCE);
        register(BF16.INSTANCE);
        register(Q8_0.INSTANCE);
        register(Q4_0.INSTANCE);
        register(Q4_K.INSTANCE);
        register(Q5_K.INSTANCE);
        register(Q6_K.INSTANCE);
    }

    private Formats() {}

    /** Every format with kernels, in {@link GgmlType} order. */
    public static Collection<Format> all() {
        return Collections.unmodifiableCollection(FORMATS.values());
    }

    private static void register(Format f) {
        FORMATS.put(f.type(), f);
    }

    /** Whether tandem has kernels for this type. */
    public static boolean supported(GgmlType type) {
        return FORMATS.containsKey(type);
    }

    /** The kernels for a type; throws with the list of supported types when there are none. */
    public static Format of(GgmlType type) {
        Format f = FORMATS.get(type);
        if (f == null) {
            throw new UnsupportedOperationException("tensor type " + type + " is not supported (supported: " + FORMATS.keySet() + ")");
        }
        return f;
    }
}
