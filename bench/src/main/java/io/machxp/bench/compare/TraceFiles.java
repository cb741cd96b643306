package io.machxp.bench.compare;

import java.nio.file.Path;
import java.util.Locale;

/** compare --trace FILE: the file of one run of the grid (FILE itself when the grid has one run). */
final class TraceFiles {
    private TraceFiles() {}

    /** {@code base} for a lone run, else its name with -VARIANT-PARAM before the extension: trace-cache-0.5.json. */
    static Path of(Path base, String variant, double param, boolean several) {
        if (!several) {
            return base;
        }
        String name = base.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".json";
        String cell = "-" + variant.replace(':', '_') + "-" + String.format(Locale.ROOT, "%s", param);
        return base.resolveSibling(stem + cell + ext);
    }
}
