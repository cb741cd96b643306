package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Several IPC cores (kernels 1..n, each with one task: task k, thread 100k) joined by in-memory
 * links that a test delivers by hand: every frame waits in the FIFO of its (from, to) link until
 * {@link #deliver} or {@link #deliverAll}, so a test chooses how links interleave. Timers of no
 * delay (what a core leaves for the end of its turn: the answers of queued-bytes accounting) run
 * before any frame is delivered or counted; other timers never run (no call here uses a timeout
 * other than 0).
 */
final class IpcCluster {
    static final int BIG = 1 << 20;

    private record Link(int from, int to) {}

    private final Map<Integer, IpcCore> cores = new LinkedHashMap<>();
    private final Map<Link, Deque<LinkFrame>> links = new LinkedHashMap<>();
    private final Set<Integer> dead = new HashSet<>();
    /** Each kernel's IPC session: 0 until it renews ({@link #renew}). */
    private final Map<Integer, Integer> sessions = new java.util.HashMap<>();
    /** Timers of no delay, not run yet ({@link #runSoon}). */
    private final java.util.List<Runnable> soon = new java.util.ArrayList<>();
    /** Frames taken off links, all kinds: how many crossed. */
    int delivered;
    /** Frames taken off links, by kind. */
    final Map<LinkFrame.BodyCase, Integer> deliveredByKind = new java.util.EnumMap<>(LinkFrame.BodyCase.class);
    /** Frames the cores sent to kernels that are not cores here (a test's rogue). */
    final java.util.List<LinkFrame> toOthers = new java.util.ArrayList<>();
    /** What the cores reported dropping at the hop bound: "kernel K: KIND for PORT from F to N (bound B)". */
    final java.util.List<String> hopBoundDrops = new java.util.ArrayList<>();

    IpcCluster(int kernels) {
        for (int k = 1; k <= kernels; k++) {
            int self = k;
            IpcCore core = new IpcCore((delay, action) -> {
                if (delay != 0) {
                    return () -> {};
                }
                soon.add(action);
                return () -> soon.remove(action);
            });
            core.attachNet(new IpcNet() {
                @Override
                public int self() {
                    return self;
                }

                @Override
                public int session() {
                    return sessions.getOrDefault(self, 0);
                }

                @Override
                public void send(int kernel, LinkFrame frame) {
                    if (!cores.containsKey(kernel)) {
                        toOthers.add(frame); // a kernel only a test speaks for (a rogue): nothing delivers it
                    } else if (!dead.contains(kernel) && !dead.contains(self)) {
                        links.computeIfAbsent(new Link(self, kernel), l -> new ArrayDeque<>()).add(frame);
                    }
                }

                @Override
                public void broadcast(LinkFrame frame) {
                    for (int other : cores.keySet()) {
                        if (other != self) {
                            send(other, frame);
                        }
                    }
                }

                @Override
                public boolean dead(int kernel) {
                    return dead.contains(kernel);
                }

                @Override
                public int kernels() {
                    return cores.size();
                }

                @Override
                public void hopBoundReached(String kind, String port, int from, int next, int bound) {
                    hopBoundDrops.add("kernel " + self + ": " + kind + " for " + port + " from " + from + " to " + next
                            + " (bound " + bound + ")");
                }
            });
            core.spaceCreate(k);
            cores.put(k, core);
        }
    }

    IpcCore core(int k) {
        return cores.get(k);
    }

    static int tid(int k) {
        return 100 * k;
    }

    /** Delivers the frames waiting on link from -> to (only those there now). */
    void deliver(int from, int to) {
        runSoon();
        Deque<LinkFrame> q = links.getOrDefault(new Link(from, to), new ArrayDeque<>());
        for (int n = q.size(); n > 0; n--) {
            deliverNext(from, to);
        }
    }

    /** Delivers the first frame waiting on link from -> to (there must be one). */
    void deliverNext(int from, int to) {
        runSoon();
        LinkFrame f = links.getOrDefault(new Link(from, to), new ArrayDeque<>()).poll();
        assertThat(f).as("a frame waiting on link %d -> %d", from, to).isNotNull();
        delivered++;
        deliveredByKind.merge(f.getBodyCase(), 1, Integer::sum);
        cores.get(to).linkReceive(from, sessions.getOrDefault(from, 0), f);
    }

    /** A frame as if from kernel {@code from} (one that is not a core here: a rogue), delivered to kernel {@code to} now. */
    void inject(int from, int to, LinkFrame f) {
        cores.get(to).linkReceive(from, f);
    }

    /** Takes the first frame waiting on link from -> to (there must be one) without delivering it. */
    LinkFrame takeFrame(int from, int to) {
        runSoon();
        LinkFrame f = links.getOrDefault(new Link(from, to), new ArrayDeque<>()).poll();
        assertThat(f).as("a frame waiting on link %d -> %d", from, to).isNotNull();
        return f;
    }

    /** The frames waiting on link from -> to (a copy). */
    java.util.List<LinkFrame> frames(int from, int to) {
        runSoon();
        return java.util.List.copyOf(links.getOrDefault(new Link(from, to), new ArrayDeque<>()));
    }

    /** Frames waiting on link from -> to. */
    int pending(int from, int to) {
        runSoon();
        return links.getOrDefault(new Link(from, to), new ArrayDeque<>()).size();
    }

    /** Delivers everything but what waits on link from -> to, links in a fixed order, until only that is left. */
    void deliverAllExcept(int from, int to) {
        Link held = new Link(from, to);
        for (boolean any = true; any; ) {
            runSoon();
            any = false;
            for (Link l : java.util.List.copyOf(links.keySet())) {
                if (!l.equals(held) && !links.get(l).isEmpty()) {
                    any = true;
                    deliver(l.from(), l.to());
                }
            }
        }
    }

    /** Delivers everything, links in a fixed order, until no frame is left. */
    void deliverAll() {
        deliverAll(Integer.MAX_VALUE);
    }

    /**
     * Delivers everything, links in a fixed order, until no frame is left or more than
     * {@code maxFrames} have crossed in this call; whether no frame is left (so that a test of a
     * loop fails by assertion, not by running for ever).
     */
    boolean deliverAll(int maxFrames) {
        int start = delivered;
        for (boolean any = true; any; ) {
            runSoon();
            any = false;
            for (Link l : java.util.List.copyOf(links.keySet())) {
                if (!links.get(l).isEmpty()) {
                    if (delivered - start > maxFrames) {
                        return false;
                    }
                    any = true;
                    deliver(l.from(), l.to());
                }
            }
        }
        return true;
    }

    /** Runs the timers of no delay the cores left, and those these leave, until none is left. */
    void runSoon() {
        while (!soon.isEmpty()) {
            soon.remove(0).run();
        }
    }

    /**
     * The links declare kernel k dead now ({@link IpcNet#dead} is true at once), while no core has
     * heard of it yet: as the links do, whose {@code kernelDied} reaches a core behind the frames
     * queued there before. The test delivers frames and calls {@code core(i).kernelDied(k)} itself.
     */
    void declareDead(int k) {
        dead.add(k);
    }

    /** Kernel k dies: its frames in flight are lost, and every other kernel learns of it (its lease ran out). */
    void kill(int k) {
        dead.add(k);
        links.entrySet().removeIf(e -> e.getKey().from() == k || e.getKey().to() == k);
        for (Map.Entry<Integer, IpcCore> c : cores.entrySet()) {
            if (c.getKey() != k) {
                c.getValue().kernelDied(k);
            }
        }
    }

    /**
     * Kernel k renews its IPC session while alive (IpcLinks, "renew"): its frames in flight are
     * lost, it hears of every other kernel's death and they of its earlier session's, then its
     * session goes up by one and its core forgets its uids of the earlier one.
     */
    void renew(int k) {
        links.entrySet().removeIf(e -> e.getKey().from() == k || e.getKey().to() == k);
        for (int other : cores.keySet()) {
            if (other != k) {
                cores.get(k).kernelDied(other);
                cores.get(other).kernelDied(k);
            }
        }
        sessions.merge(k, 1, Integer::sum);
        cores.get(k).renewSession();
    }

    /**
     * Kernel k, declared dead ({@link #kill}, {@link #declareDead}), rejoins with its next IPC
     * session (IpcLinks, "rejoin"): alive again, and each other core hears of its revival (after
     * its death, as the links tell them). Its own core goes on (a real kernel's session core is a
     * new one; kernel k here has nothing of the earlier session that matters to a test).
     */
    void revive(int k) {
        dead.remove(k);
        int session = sessions.merge(k, 1, Integer::sum);
        for (int other : cores.keySet()) {
            if (other != k) {
                cores.get(other).kernelRevived(k, session);
            }
        }
    }

    // ---- Mach calls on kernel k's task --------------------------------------------------------

    int allocate(int k) {
        return cores.get(k).machPortAllocate(k, PortRight.RECEIVE.value).orThrow("mach_port_allocate");
    }

    /** Puts a right of kernel {@code from}'s task into kernel {@code to}'s task under {@code name}, and delivers. */
    void give(int from, int name, MsgType d, int to, int toName) {
        assertThat(cores.get(from).machPortInsertRemote(from, name, d, to, to, toName)).isEqualTo(KernReturn.KERN_SUCCESS);
        deliverAll();
    }

    IpcFixture.Call msg(int k, int tid, MachMessage m, int option, int rcvName) {
        IpcFixture.Call c = new IpcFixture.Call();
        cores.get(k).machMsg(k, tid, m, option, BIG, rcvName, 0, c::accept);
        return c;
    }

    IpcFixture.Call send(int k, MachMessage m) {
        return msg(k, tid(k), m, Mach.MACH_SEND_MSG, 0);
    }

    /** A receive that does not wait. */
    IpcFixture.Call poll(int k, int name) {
        return msg(k, tid(k) + 1, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, name);
    }

    MachMessage take(int k, int name) {
        return poll(k, name).message();
    }

    int type(int k, int name) {
        return cores.get(k).machPortType(k, name).orThrow("mach_port_type");
    }

    // ---- ports passed between the kernels' tasks -------------------------------------------------

    /** The name a kernel's inbox has in the tasks given a send right to it ({@link #inbox}): INBOX + its kernel. */
    static final int INBOX = 0x600;

    /** A port of kernel {@code k} to which each of {@code givers} holds a send right, named INBOX + k there. */
    int inbox(int k, int... givers) {
        int in = allocate(k);
        for (int g : givers) {
            give(k, in, MsgType.MAKE_SEND, g, INBOX + k);
        }
        return in;
    }

    /** Kernel {@code from}'s task sends its receive right {@code name} to kernel {@code to}'s inbox (not delivered). */
    void sendReceiveRight(int from, int name, int to) {
        assertThat(send(from, MachMessage.to(INBOX + to, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(name, MsgType.MOVE_RECEIVE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    /** The receive right in the next message on kernel {@code k}'s inbox: its name there. */
    int receivedRight(int k, int inbox) {
        return ((MsgItem.Port) take(k, inbox).body().get(0)).name();
    }

    /** Queued bytes across kernels all given back: nothing charged, nothing carried out unanswered, on each kernel given. */
    void assertAllBack(int... kernels) {
        for (int k : kernels) {
            assertThat(core(k).queuedBytes()).as("kernel %d's budget in use", k).isZero();
            assertThat(core(k).queuedBytesOfPeers()).as("kernel %d's bytes counted to client peers", k).isZero();
            assertThat(core(k).inFlightMessages()).as("kernel %d's messages not answered", k).isZero();
        }
    }

    /** Requests a notification of {@code variant} on {@code name}, sent to {@code notifyPort} (both in kernel k's task). */
    void request(int k, int name, int variant, int notifyPort) {
        assertThat(cores.get(k).machPortRequestNotification(k, name, variant, 0, notifyPort, MsgType.MAKE_SEND_ONCE)
                .code()).isEqualTo(KernReturn.KERN_SUCCESS);
    }
}
