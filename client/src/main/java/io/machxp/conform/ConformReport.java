package io.machxp.conform;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * The results of a run as a table for a person, one JSON object, or JUnit XML for CI. A case that
 * passed only on a rerun (the kit stalled under an earlier run, {@link CaseResult#passedOnRerun})
 * counts as passed, and every report says so apart: the summary ("passed on a rerun: N"), the JSON
 * ({@code passedOnRerun}, each case's {@code earlierRuns}) and the JUnit XML (Surefire's
 * {@code flakyFailure}/{@code flakyError} per earlier run, with its full message).
 */
public final class ConformReport {
    private final String suite;
    private final String target;
    private final List<CaseResult> results;

    public ConformReport(String suite, String target, List<CaseResult> results) {
        this.suite = suite;
        this.target = target;
        this.results = List.copyOf(results);
    }

    public long count(CaseResult.Outcome outcome) {
        return results.stream().filter(r -> r.outcome() == outcome).count();
    }

    /** Cases that passed only on a rerun (counted among the passed too). */
    public long passedOnRerun() {
        return results.stream().filter(CaseResult::passedOnRerun).count();
    }

    /** MUST cases that failed or broke: any makes the run fail. */
    public long mustFailures() {
        return results.stream().filter(CaseResult::failsRun).count();
    }

    /** One line per case as it finishes. */
    public static String line(CaseResult r) {
        return String.format(Locale.ROOT, "%-5s %-6s %-5s %-38s %6d ms%s", r.outcome(), r.conformCase().level(),
                r.conformCase().section(), r.conformCase().id(), r.millis(),
                r.message().isEmpty() ? "" : "\n      " + r.message());
    }

    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-5s %-6s %-5s %-38s %9s%n", "", "level", "spec", "case", "time"));
        for (CaseResult r : results) {
            b.append(line(r)).append('\n');
        }
        b.append(summary()).append('\n');
        return b.toString();
    }

    public String summary() {
        long reruns = passedOnRerun();
        return String.format(Locale.ROOT, "%s against %s: %d passed%s, %d failed, %d errors, %d skipped; %s", suite,
                target, count(CaseResult.Outcome.PASS), reruns == 0 ? "" : " (passed on a rerun: " + reruns + ")",
                count(CaseResult.Outcome.FAIL), count(CaseResult.Outcome.ERROR),
                count(CaseResult.Outcome.SKIP), mustFailures() == 0 ? "every MUST case passed"
                        : mustFailures() + " MUST cases did not pass");
    }

    public String json() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("suite", suite);
        root.put("target", target);
        root.put("passed", count(CaseResult.Outcome.PASS));
        root.put("passedOnRerun", passedOnRerun());
        root.put("failed", count(CaseResult.Outcome.FAIL));
        root.put("errors", count(CaseResult.Outcome.ERROR));
        root.put("skipped", count(CaseResult.Outcome.SKIP));
        root.put("mustFailures", mustFailures());
        ArrayNode cases = root.putArray("cases");
        for (CaseResult r : results) {
            ObjectNode c = cases.addObject();
            c.put("id", r.conformCase().id());
            c.put("section", r.conformCase().section());
            c.put("level", r.conformCase().level().name());
            c.put("title", r.conformCase().title());
            c.put("outcome", r.outcome().name());
            c.put("message", r.message());
            c.put("millis", r.millis());
            ArrayNode earlier = c.putArray("earlierRuns");
            for (CaseResult e : r.earlierRuns()) {
                ObjectNode run = earlier.addObject();
                run.put("outcome", e.outcome().name());
                run.put("message", e.message());
                run.put("millis", e.millis());
            }
        }
        return root.toString();
    }

    /**
     * JUnit XML (the Ant/Surefire schema every CI reads): one testcase per case, classname the spec
     * section. A SHOULD case that did not pass is reported skipped with why, so that CI fails
     * exactly when the exit status does. The earlier runs of a case that ran again (the kit
     * stalled) are Surefire's elements for them: {@code flakyFailure}/{@code flakyError} in a case
     * that passed on a rerun, {@code rerunFailure}/{@code rerunError} in one that did not.
     */
    public String junitXml() {
        double seconds = results.stream().mapToLong(CaseResult::millis).sum() / 1000.0;
        long failures = results.stream().filter(r -> r.failsRun() && r.outcome() == CaseResult.Outcome.FAIL).count();
        long errors = results.stream().filter(r -> r.failsRun() && r.outcome() == CaseResult.Outcome.ERROR).count();
        long skipped = results.stream().filter(r -> !r.failsRun() && r.outcome() != CaseResult.Outcome.PASS).count();
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append(String.format(Locale.ROOT, "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
                + "skipped=\"%d\" time=\"%.3f\">%n", xml(suite + " " + target), results.size(), failures, errors, skipped,
                seconds));
        for (CaseResult r : results) {
            ConformCase<?> c = r.conformCase();
            b.append(String.format(Locale.ROOT, "  <testcase classname=\"xp-spec.%s\" name=\"%s [%s] %s\" time=\"%.3f\"",
                    xml(c.section()), xml(c.id()), c.level(), xml(c.title()), r.millis() / 1000.0));
            if (r.outcome() == CaseResult.Outcome.PASS && r.earlierRuns().isEmpty()) {
                b.append("/>\n");
                continue;
            }
            b.append(">\n");
            if (r.outcome() == CaseResult.Outcome.PASS) {
                earlierRuns(b, r, "flaky");
                b.append("  </testcase>\n");
                continue;
            }
            String message = xml(r.message());
            if (!r.failsRun()) {
                String why = r.outcome() == CaseResult.Outcome.SKIP ? r.message()
                        : "SHOULD not met: " + r.message();
                b.append("    <skipped message=\"").append(xml(why)).append("\"/>\n");
            } else if (r.outcome() == CaseResult.Outcome.FAIL) {
                b.append("    <failure message=\"").append(message).append("\">").append(message).append("</failure>\n");
            } else {
                b.append("    <error message=\"").append(message).append("\">").append(message).append("</error>\n");
            }
            earlierRuns(b, r, "rerun");
            b.append("  </testcase>\n");
        }
        b.append("</testsuite>\n");
        return b.toString();
    }

    /** One Surefire element per earlier run ({@code flakyFailure}, {@code rerunError}...): its full message. */
    private static void earlierRuns(StringBuilder b, CaseResult r, String kind) {
        for (CaseResult e : r.earlierRuns()) {
            String element = kind + (e.outcome() == CaseResult.Outcome.FAIL ? "Failure" : "Error");
            String message = xml(e.message());
            b.append("    <").append(element).append(" message=\"").append(message).append("\" type=\"")
                    .append(e.outcome()).append("\"><stackTrace>").append(message).append("</stackTrace></")
                    .append(element).append(">\n");
        }
    }

    private static String xml(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
                        b.append(' ');
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }
}
