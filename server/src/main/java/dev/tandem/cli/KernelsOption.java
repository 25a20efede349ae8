package dev.tandem.cli;

import dev.tandem.kernels.IntKernels;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;

/** {@code --kernels f32|q8}: which matrix kernels a command runs, shared by generate, serve and bench. */
final class KernelsOption {
    static final String DESCRIPTION = "Matrix kernels: f32 (activations stay F32: closest to the exact result) or q8 "
            + "(Q8_0/Q4_0/Q4_K/Q6_K weights times activations quantized to 8-bit blocks, as llama.cpp does: faster, less exact; "
            + "native AVX2/AVX-VNNI code on x86-64) (default: ${DEFAULT-VALUE}).";

    private KernelsOption() {}

    /** Validates and applies the choice (process-wide, before the model runs). */
    static void apply(String value, CommandSpec spec, PrintWriter err) {
        switch (value) {
            case "f32" -> IntKernels.setEnabled(false);
            case "q8" -> {
                IntKernels.setEnabled(true);
                err.println("kernels: q8 (" + IntKernels.implementation() + ")");
            }
            default -> throw new ParameterException(spec.commandLine(), "--kernels must be f32 or q8, not " + value);
        }
    }

    /** The bench table's backend column. */
    static String backend(int vectorBits) {
        if (!IntKernels.enabled()) {
            return "Java " + vectorBits + "b";
        }
        return IntKernels.implementation().startsWith("native") ? "q8 native" : "q8 Java";
    }
}
