package io.machxp.proto.threads;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds, in one Java source file, the calls that run work on the common fork-join pool: a
 * {@code CompletableFuture} step without an executor ({@code runAsync(r)}, {@code supplyAsync(s)},
 * {@code thenApplyAsync(f)} and the other {@code xxxAsync} forms, {@code delayedExecutor(d, unit)},
 * told apart from the forms with an executor by their argument count), {@code ForkJoinPool.commonPool()}, {@code parallelStream()}
 * and a stream's {@code parallel()}. Since JDK 25 the common pool is CompletableFuture's default
 * executor on every machine, with one worker on 2 CPUs: one blocking task there holds back every
 * later one ({@link OwnThreads} says why, and is what to use instead).
 *
 * <p>A text scan, not a compiler: comments and string, char and text-block literals are blanked
 * first (so documentation that names these calls does not count), and a call's arguments are
 * counted at its top level of parentheses, brackets and braces. A generic type's comma at that
 * level ({@code f(new HashMap<K, V>())}) would be counted as an argument: such a call could pass
 * unnoticed, never the other way round.
 */
final class CommonPoolCalls {
    /** One call found: the line it starts on, and its name ("runAsync", "commonPool", ...). */
    record Found(int line, String call) {}

    /**
     * The CompletableFuture steps that take an executor as their last argument, with how many
     * arguments the form without it has.
     */
    private static final Map<String, Integer> WITHOUT_EXECUTOR = Map.ofEntries(
            Map.entry("runAsync", 1), Map.entry("supplyAsync", 1), Map.entry("completeAsync", 1),
            Map.entry("thenApplyAsync", 1), Map.entry("thenAcceptAsync", 1), Map.entry("thenRunAsync", 1),
            Map.entry("thenComposeAsync", 1), Map.entry("whenCompleteAsync", 1), Map.entry("handleAsync", 1),
            Map.entry("exceptionallyAsync", 1), Map.entry("exceptionallyComposeAsync", 1),
            Map.entry("thenCombineAsync", 2), Map.entry("thenAcceptBothAsync", 2), Map.entry("runAfterBothAsync", 2),
            Map.entry("applyToEitherAsync", 2), Map.entry("acceptEitherAsync", 2), Map.entry("runAfterEitherAsync", 2),
            Map.entry("delayedExecutor", 2));

    private static final Pattern ASYNC = Pattern.compile(
            "\\.\\s*(\\w+Async|delayedExecutor)\\s*\\(|\\b(runAsync|supplyAsync|delayedExecutor)\\s*\\(");
    private static final Pattern ALWAYS = Pattern.compile(
            "\\bForkJoinPool\\s*\\.\\s*(commonPool)\\s*\\("
            + "|\\.\\s*(parallelStream)\\s*\\(|\\.\\s*(parallel)\\s*\\(\\s*\\)");

    private CommonPoolCalls() {}

    /** The common-pool calls of {@code source}, in order. */
    static List<Found> in(String source) {
        String code = blanked(source);
        List<Found> found = new ArrayList<>();
        Matcher m = ASYNC.matcher(code);
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            Integer without = WITHOUT_EXECUTOR.get(name);
            if (without != null && arguments(code, m.end() - 1) == without) {
                found.add(new Found(lineOf(code, m.start()), name));
            }
        }
        m = ALWAYS.matcher(code);
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
            found.add(new Found(lineOf(code, m.start()), name));
        }
        found.sort(java.util.Comparator.comparingInt(Found::line));
        return found;
    }

    /** How many arguments the call whose '(' is at {@code open} has (0 for "()"). */
    private static int arguments(String code, int open) {
        int depth = 0;
        int commas = 0;
        boolean any = false;
        for (int i = open; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
                if (depth == 0) {
                    return any ? commas + 1 : 0;
                }
            } else if (depth == 1 && c == ',') {
                commas++;
            } else if (depth == 1 && !Character.isWhitespace(c)) {
                any = true;
            }
            if (depth > 1) {
                any = true;
            }
        }
        return any ? commas + 1 : 0;
    }

    private static int lineOf(String code, int at) {
        int line = 1;
        for (int i = 0; i < at; i++) {
            if (code.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    /** {@code source} with comments and literals replaced by spaces, newlines kept. */
    static String blanked(String source) {
        StringBuilder b = new StringBuilder(source);
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                int end = source.indexOf('\n', i);
                i = blank(b, i, end < 0 ? n : end);
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                i = blank(b, i, end < 0 ? n : end + 2);
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                while (end > 0 && source.charAt(end - 1) == '\\') {
                    end = source.indexOf("\"\"\"", end + 1);
                }
                i = blank(b, i, end < 0 ? n : end + 3);
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                i = blank(b, i, Math.min(n, j + 1));
            } else {
                i++;
            }
        }
        return b.toString();
    }

    private static int blank(StringBuilder b, int from, int to) {
        for (int k = from; k < to; k++) {
            if (b.charAt(k) != '\n') {
                b.setCharAt(k, ' ');
            }
        }
        return to;
    }
}
