package io.machxp.trace;

import com.google.protobuf.Message;
import io.machxp.sim.SimCluster;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a traced run recorded, in one clock (virtual nanoseconds in the simulator, or real ones
 * recorded by {@link RealXpRecorder}): every XP
 * message with the time it was sent and the time it arrived, and marks on the nodes' lifelines
 * (a thread's futex calls and their answers, boosts, dispatches, owner deaths). Filled on one
 * thread (the simulator's); read by {@link ChromeTrace} and {@link SequenceChart}.
 */
public final class XpTrace {
    /**
     * One XP message.
     *
     * @param routine its routine without the memory_object_ prefix ("lock_futex", "futex_granted")
     * @param offset the offset it names in its object, or -1 (hello, welcome, keepalives)
     * @param pages the pages it carries (a page move: data_supply, data_return, or pages inside a grant or release)
     * @param detail its other set fields, for a person ("priority=90 relinquish=true")
     */
    public record Xp(long sent, long arrives, String from, String to, String routine, long offset, int bytes,
            int pages, String detail) {}

    /** Something that happened on a node: {@code thread} is a scenario thread's name, or "-". */
    public record Mark(long time, String node, String thread, String event, String detail) {}

    private final List<Xp> messages = new ArrayList<>();
    private final List<Mark> marks = new ArrayList<>();
    private final Set<String> nodes = new LinkedHashSet<>();
    private String title = "machxp";
    private String clock = "virtual time of the simulator";
    private long origin;

    /** Records every XP message of {@code cluster} from now on. */
    public void attach(SimCluster cluster) {
        cluster.observe(this::message);
    }

    /** Records one XP message. */
    public void message(long sent, long arrives, String from, String to, Message message) {
        XpRoutines.Described d = XpRoutines.describe(message);
        nodes.add(from);
        nodes.add(to);
        messages.add(new Xp(sent, arrives, from, to, d.routine(), d.offset(), message.getSerializedSize(), d.pages(),
                d.detail()));
    }

    public void mark(long time, String node, String thread, String event, String detail) {
        nodes.add(node);
        marks.add(new Mark(time, node, thread, event, detail));
    }

    public void title(String value) {
        title = value;
    }

    /** The run's time 0 in the trace's clock (a scenario's end of setup). */
    public void origin(long value) {
        origin = value;
    }

    public long origin() {
        return origin;
    }

    public String title() {
        return title;
    }

    /** What the times are: the simulator's virtual time (the default), or a real clock. */
    public void clock(String value) {
        clock = value;
    }

    public String clock() {
        return clock;
    }

    public List<Xp> messages() {
        return List.copyOf(messages);
    }

    public List<Mark> marks() {
        return List.copyOf(marks);
    }

    /** The lifelines, kernels in the order they first appeared; the pager among them. */
    public List<String> nodes() {
        return List.copyOf(nodes);
    }
}
