package dev.tandem.cli;

import dev.tandem.gguf.GgufArray;
import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tandem inspect}: a GGUF file's metadata and tensor table. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a GGUF file's metadata and a table of its tensors (name, type, shape, bytes).")
final class InspectCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH|demo", description = "GGUF file, or 'demo'.")
    String model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path path = ModelPaths.resolve(model, spec.commandLine().getErr());
        try (GgufFile f = GgufFile.open(path)) {
            out.printf("file       %s%n", f.path());
            out.printf("version    GGUF v%d, alignment %d, tensor data at byte %d%n", f.version(), f.alignment(), f.dataOffset());
            out.printf("metadata   %d keys%n", f.metadata().size());
            for (Map.Entry<String, Object> e : f.metadata().entrySet()) {
                out.printf("  %-44s %s%n", e.getKey(), show(e.getValue()));
            }
            out.printf("tensors    %d%n", f.tensors().size());
            out.printf("  %-36s %-6s %-22s %14s%n", "name", "type", "shape", "bytes");
            long total = 0;
            for (TensorInfo t : f.tensors().values()) {
                out.printf("  %-36s %-6s %-22s %,14d%n", t.name(), t.type(), t.shape(), t.bytes());
                total += t.bytes();
            }
            out.printf("  %-36s %-6s %-22s %,14d%n", "total", "", "", total);
        }
        out.flush();
        return 0;
    }

    private static String show(Object v) {
        if (v instanceof String s) {
            String q = s.replace("\n", "\\n");
            return '"' + (q.length() > 100 ? q.substring(0, 100) + "…\" (" + s.length() + " chars)" : q + '"');
        }
        if (v instanceof GgufArray a) {
            return a.toString();
        }
        return String.valueOf(v);
    }
}
