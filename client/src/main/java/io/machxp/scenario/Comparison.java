package io.machxp.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.scenario.ScenarioResult.StepOutcome;
import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Two runs of one scenario side by side (machxp run FILE --compare linux: sim on the left, Linux
 * on the right), on what Linux defines and timing does not decide: each step's outcome (its code,
 * and for a read the value as {@link WordValues} shows it), each thread's highest effective
 * priority, and the order in which threads acquired each futex word. Times, waits and the
 * simulator's acquire paths are not compared. They agree when none of these differ.
 */
public final class Comparison {
    /** A step missing on one side (its thread ended before it, or the run stopped at its limit). */
    public static final String NOT_REACHED = "-";

    /** One step of one thread: its outcome on each side. */
    public record StepRow(String thread, int number, String step, String left, String leftValue, String right,
            String rightValue) {
        public boolean differs() {
            return !left.equals(right) || !leftValue.equals(rightValue);
        }
    }

    /**
     * One thread's highest effective priority on each side (its base priority when never boosted),
     * and the highest it reached counting boosts of an instant ({@code leftInstant}, {@code
     * rightInstant}: at least {@code left}, {@code right}). A boost of an instant is one Linux
     * gives and takes back within one system call (a lock whose timeout had passed queues its
     * waiter all the same, boosting the owner for microseconds): the simulator traces it as an
     * "instant-boost", and a sampler of Linux's priorities sees it in some runs and not in others.
     * So each side stands for a range, from its lasting highest to its highest with instants, and
     * the sides agree when their ranges meet.
     */
    public record BoostRow(String thread, int priority, int left, int leftInstant, int right, int rightInstant) {
        public BoostRow {
            leftInstant = Math.max(left, leftInstant);
            rightInstant = Math.max(right, rightInstant);
        }

        public boolean differs() {
            return leftInstant < right || rightInstant < left;
        }
    }

    /** The threads that acquired one futex word (lock or trylock answered ok or EOWNERDEAD), in order. */
    public record OrderRow(String word, List<String> left, List<String> right) {
        public boolean differs() {
            return !left.equals(right);
        }
    }

    private final ScenarioResult leftRun;
    private final ScenarioResult rightRun;
    private final List<StepRow> steps;
    private final List<BoostRow> boosts;
    private final List<OrderRow> orders;

    private Comparison(ScenarioResult left, ScenarioResult right, List<StepRow> steps, List<BoostRow> boosts,
            List<OrderRow> orders) {
        this.leftRun = left;
        this.rightRun = right;
        this.steps = List.copyOf(steps);
        this.boosts = List.copyOf(boosts);
        this.orders = List.copyOf(orders);
    }

    /** Compares two runs of the same scenario. */
    public static Comparison of(ScenarioResult left, ScenarioResult right) {
        Scenario s = left.scenario();
        List<StepRow> steps = new ArrayList<>();
        for (Scenario.ThreadSpec t : s.threads()) {
            Map<Integer, StepOutcome> l = byNumber(left, t.name());
            Map<Integer, StepOutcome> r = byNumber(right, t.name());
            int last = Math.max(l.keySet().stream().mapToInt(Integer::intValue).max().orElse(0),
                    r.keySet().stream().mapToInt(Integer::intValue).max().orElse(0));
            for (int n = 1; n <= last; n++) {
                StepOutcome a = l.get(n);
                StepOutcome b = r.get(n);
                String step = a != null ? a.step() : b != null ? b.step()
                        : n <= t.program().size() ? t.program().get(n - 1).toString() : "exit (end of program)";
                steps.add(new StepRow(t.name(), n, step, a == null ? NOT_REACHED : a.code(), a == null ? "" : a.value(),
                        b == null ? NOT_REACHED : b.code(), b == null ? "" : b.value()));
            }
        }
        List<BoostRow> boosts = new ArrayList<>();
        for (Scenario.ThreadSpec t : s.threads()) {
            boosts.add(new BoostRow(t.name(), t.priority(), highest(left, t), highestForAnInstant(left, t),
                    highest(right, t), highestForAnInstant(right, t)));
        }
        List<OrderRow> orders = new ArrayList<>();
        for (String word : WordValues.futexWords(s)) {
            orders.add(new OrderRow(word, acquirers(left, word), acquirers(right, word)));
        }
        return new Comparison(left, right, steps, boosts, orders);
    }

    private static Map<Integer, StepOutcome> byNumber(ScenarioResult r, String thread) {
        Map<Integer, StepOutcome> m = new LinkedHashMap<>();
        for (StepOutcome o : r.outcomes()) {
            if (o.thread().equals(thread)) {
                m.put(o.number(), o);
            }
        }
        return m;
    }

    private static int highest(ScenarioResult r, Scenario.ThreadSpec t) {
        return r.threads().stream().filter(x -> x.name().equals(t.name())).mapToInt(ThreadSummary::maxPriority)
                .findFirst().orElse(t.priority());
    }

    /** The highest priority an "instant-boost" event of the run raised {@code t} to, or its base priority. */
    private static int highestForAnInstant(ScenarioResult r, Scenario.ThreadSpec t) {
        int highest = t.priority();
        for (Event e : r.events()) {
            if (e.event().equals(INSTANT_BOOST) && t.name().equals(e.thread())) {
                Matcher m = ScenarioRun.TO_PRIORITY.matcher(e.detail());
                if (m.find()) {
                    highest = Math.max(highest, Integer.parseInt(m.group(1)));
                }
            }
        }
        return highest;
    }

    /** The event the simulator's kernel traces for a boost given and taken back in one instant. */
    static final String INSTANT_BOOST = "instant-boost";

    private static final Set<String> ACQUIRED = Set.of("ok", "EOWNERDEAD");

    private static List<String> acquirers(ScenarioResult r, String word) {
        List<String> order = new ArrayList<>();
        for (StepOutcome o : r.outcomes()) {
            if (word.equals(o.word()) && (o.kind() == Step.Kind.LOCK || o.kind() == Step.Kind.TRYLOCK)
                    && ACQUIRED.contains(o.code())) {
                order.add(o.thread());
            }
        }
        return order;
    }

    public List<StepRow> steps() {
        return steps;
    }

    public List<BoostRow> boosts() {
        return boosts;
    }

    public List<OrderRow> orders() {
        return orders;
    }

    public int differences() {
        return (int) (steps.stream().filter(StepRow::differs).count() + boosts.stream().filter(BoostRow::differs).count()
                + orders.stream().filter(OrderRow::differs).count());
    }

    public boolean agreed() {
        return differences() == 0;
    }

    private String leftName() {
        return leftRun.mode() + (leftRun.seed() >= 0 ? " (seed " + leftRun.seed() + ")" : "");
    }

    private static String outcome(String code, String value) {
        return value.isEmpty() ? code : code + " " + value;
    }

    /** The side-by-side table; "*" marks a difference. */
    public String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %s against %s%n", leftRun.scenario().name(), leftName(), rightRun.mode()));
        out.append(String.format(Locale.ROOT, "%n  %-8s %3s %-28s %-26s %s%n", "thread", "#", "step", leftRun.mode(), rightRun.mode()));
        for (StepRow r : steps) {
            out.append(String.format(Locale.ROOT, "%s %-8s %3d %-28s %-26s %s%n", r.differs() ? "*" : " ", r.thread(), r.number(),
                    r.step(), outcome(r.left(), r.leftValue()), outcome(r.right(), r.rightValue())));
        }
        out.append(String.format(Locale.ROOT, "%n  %-8s %8s %-28s %-26s %s%n", "thread", "priority", "highest priority", leftRun.mode(),
                rightRun.mode()));
        for (BoostRow b : boosts) {
            out.append(String.format(Locale.ROOT, "%s %-8s %8d %-28s %-26s %s%n", b.differs() ? "*" : " ", b.thread(), b.priority(), "",
                    highestText(b.left(), b.leftInstant()), highestText(b.right(), b.rightInstant())));
        }
        if (!orders.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%n  %-37s %-26s %s%n", "order of acquisition", leftRun.mode(), rightRun.mode()));
            for (OrderRow o : orders) {
                out.append(String.format(Locale.ROOT, "%s %-37s %-26s %s%n", o.differs() ? "*" : " ", o.word(), join(o.left()),
                        join(o.right())));
            }
        }
        if (!leftRun.completed() || !rightRun.completed()) {
            out.append(String.format(Locale.ROOT, "%n%s%s", leftRun.completed() ? "" : leftRun.mode() + " stopped at the limit with threads still running\n",
                    rightRun.completed() ? "" : rightRun.mode() + " stopped at the limit with threads still running\n"));
        }
        int d = differences();
        out.append(String.format(Locale.ROOT, "%n%s%n", d == 0 ? leftRun.mode() + " and " + rightRun.mode() + " agree"
                : d + (d == 1 ? " difference" : " differences") + " (marked *)"));
        return out.toString();
    }

    private static String highestText(int lasting, int instant) {
        return instant > lasting ? lasting + " (" + instant + " for an instant)" : Integer.toString(lasting);
    }

    private static String join(List<String> names) {
        return names.isEmpty() ? "(none)" : String.join(", ", names);
    }

    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", leftRun.scenario().name());
        root.put("left", side(leftRun));
        root.put("right", side(rightRun));
        root.put("agreed", agreed());
        root.put("differences", differences());
        List<Map<String, Object>> st = new ArrayList<>();
        for (StepRow r : steps) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("thread", r.thread());
            m.put("number", r.number());
            m.put("step", r.step());
            m.put(leftRun.mode(), r.left());
            m.put(rightRun.mode(), r.right());
            if (!r.leftValue().isEmpty() || !r.rightValue().isEmpty()) {
                m.put(leftRun.mode() + "Value", r.leftValue());
                m.put(rightRun.mode() + "Value", r.rightValue());
            }
            m.put("differs", r.differs());
            st.add(m);
        }
        root.put("steps", st);
        List<Map<String, Object>> bs = new ArrayList<>();
        for (BoostRow b : boosts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("thread", b.thread());
            m.put("priority", b.priority());
            m.put(leftRun.mode(), b.left());
            m.put(rightRun.mode(), b.right());
            if (b.leftInstant() > b.left() || b.rightInstant() > b.right()) {
                m.put(leftRun.mode() + "ForAnInstant", b.leftInstant());
                m.put(rightRun.mode() + "ForAnInstant", b.rightInstant());
            }
            m.put("differs", b.differs());
            bs.add(m);
        }
        root.put("highestPriorities", bs);
        List<Map<String, Object>> os = new ArrayList<>();
        for (OrderRow o : orders) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("word", o.word());
            m.put(leftRun.mode(), o.left());
            m.put(rightRun.mode(), o.right());
            m.put("differs", o.differs());
            os.add(m);
        }
        root.put("acquisitionOrders", os);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> side(ScenarioResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", r.mode());
        if (r.seed() >= 0) {
            m.put("seed", r.seed());
        }
        m.put("completed", r.completed());
        return m;
    }
}
