package dev.tandem.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector width every kernel uses. The Vector API compiles to SIMD instructions only when
 * the species is a compile-time constant, so the width is fixed for the life of the JVM: the
 * machine's preferred width, or {@code -Dtandem.vector.bits=128|256|512} at startup (tests run
 * every kernel at each width this way). This is the only place the property is read.
 */
public final class Vectors {
    /** Float species of the selected width. */
    public static final VectorSpecies<Float> F = select();
    /** Lanes of {@link #F}. */
    public static final int LANES = F.length();

    private Vectors() {}

    private static VectorSpecies<Float> select() {
        String bits = System.getProperty("tandem.vector.bits");
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("tandem.vector.bits must be 128, 256 or 512, not " + bits);
        };
    }

    /** A human-readable description, e.g. {@code "512-bit (16 floats)"}. */
    public static String describe() {
        return F.vectorBitSize() + "-bit (" + LANES + " floats" + (F.vectorShape() == VectorShape.preferredShape() ? ", preferred" : "") + ")";
    }
}
