package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Conservation of the budget of queued bytes, randomized (seeded): two tasks make send-once
 * rights, request notifications (no-senders, port-destroyed, dead-name), move receive rights
 * between them (extract_right, and in messages, so ports are in transit), send with reply rights,
 * block at queue limits 0-2 with timeouts, receive, destroy and deallocate names, under a small
 * budget. After every step, over every port reachable (names, requests, and the rights inside
 * queued, held and blocked messages):
 * <ul>
 *   <li>each port's notification sum ({@link Port#notificationBytes}) is the cost of the
 *       notifications queued or held on it;</li>
 *   <li>each task's share is the cost of the messages charged to it (a notification: to its
 *       port's {@link Port#notificationsChargedTo}), and the kernel's count the cost of all of them;</li>
 * </ul>
 * and once every thread and task has ended, everything is back to 0.
 */
class NotificationChargeConservationTest {
    private static final int SEEDS = 300;
    private static final int STEPS = 200;

    @Test
    void chargesAlwaysEqualWhatIsQueuedAndGoBackToZero() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            try {
                run(seed);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private int nextTid = 1000;
    private final List<Integer> tids = new ArrayList<>();

    private void run(long seed) {
        Random r = new Random(seed);
        IpcFixture f = new IpcFixture();
        f.ipc.limitQueuedBytes(r.nextBoolean() ? 4096 : 1 << 20);
        tids.clear();
        for (int step = 0; step < STEPS; step++) {
            step(f, r);
            check(f, "step " + step);
        }
        for (int tid : tids) {
            f.ipc.threadEnded(tid);
        }
        check(f, "threads ended");
        if (r.nextBoolean()) {
            f.ipc.spaceDestroy(A);
            check(f, "A destroyed");
            f.ipc.spaceDestroy(B);
        } else {
            f.ipc.spaceDestroy(B);
            check(f, "B destroyed");
            f.ipc.spaceDestroy(A);
        }
        f.advanceMs(1000);
        assertThat(f.ipc.queuedBytes()).as("everything destroyed: nothing charged").isZero();
    }

    private static int[] names(IpcFixture f, long task) {
        return f.ipc.machPortNames(task).orThrow("names").names();
    }

    private static int pick(IpcFixture f, long task, Random r) {
        int[] n = names(f, task);
        return n.length == 0 ? 0x77 : n[r.nextInt(n.length)];
    }

    private void step(IpcFixture f, Random r) {
        long t = r.nextBoolean() ? A : B;
        long o = t == A ? B : A;
        int name = pick(f, t, r);
        switch (r.nextInt(14)) {
            case 0, 1 -> f.ipc.machPortAllocate(t, PortRight.RECEIVE.value);
            case 2, 3 -> f.ipc.machPortExtractRight(t, name, MsgType.MAKE_SEND_ONCE, r.nextBoolean() ? t : o);
            case 4 -> f.ipc.machPortRequestNotification(t, name,
                    new int[] {Mach.MACH_NOTIFY_NO_SENDERS, Mach.MACH_NOTIFY_PORT_DESTROYED, Mach.MACH_NOTIFY_DEAD_NAME}[r.nextInt(3)],
                    r.nextInt(2), pick(f, t, r), MsgType.MAKE_SEND_ONCE);
            case 5 -> f.ipc.machPortExtractRight(t, name, MsgType.MOVE_RECEIVE, o);
            case 6 -> f.ipc.machPortExtractRight(t, name, MsgType.MAKE_SEND, r.nextBoolean() ? t : o);
            case 7 -> { // a receive right (or a send-once right) in a message: in transit
                MachMessage m = MachMessage.to(name, MsgType.MAKE_SEND, 7)
                        .withBody(new MsgItem.Port(pick(f, t, r), r.nextBoolean() ? MsgType.MOVE_RECEIVE : MsgType.MAKE_SEND_ONCE));
                send(f, t, m, r);
            }
            case 8 -> {
                MachMessage m = MachMessage.to(name, r.nextBoolean() ? MsgType.MAKE_SEND : MsgType.COPY_SEND, 8)
                        .withBody(new MsgItem.Inline(new byte[r.nextInt(200)]));
                if (r.nextBoolean()) {
                    m = m.withReply(pick(f, t, r), MsgType.MAKE_SEND_ONCE);
                }
                send(f, t, m, r);
            }
            case 9 -> f.ipc.machPortDestroy(t, name);
            case 10 -> f.ipc.machPortDeallocate(t, name);
            case 11 -> f.ipc.machMsg(t, nextTid++, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, IpcFixture.BIG, name, 0,
                    x -> { });
            case 12 -> f.ipc.machPortSetQlimit(t, name, r.nextInt(3));
            default -> f.advanceMs(r.nextInt(15));
        }
    }

    private void send(IpcFixture f, long t, MachMessage m, Random r) {
        int tid = nextTid++;
        tids.add(tid);
        boolean timeout = r.nextBoolean();
        f.ipc.machMsg(t, tid, m, Mach.MACH_SEND_MSG | (timeout ? Mach.MACH_SEND_TIMEOUT : 0), 0, 0,
                timeout ? 1 + r.nextInt(10) : 0, x -> { });
    }

    /** A plain comparison (AssertJ's per-call cost would dominate the run), with the assertion's message. */
    private static void same(long actual, long expected, String when, String what) {
        if (actual != expected) {
            assertThat(actual).as(when + ": " + what).isEqualTo(expected);
        }
    }

    private static void owe(Map<Port, Integer> sendOnce, Carried c) {
        if (c != null && c.port() != null && c.type() == MsgType.PORT_SEND_ONCE) {
            sendOnce.merge(c.port(), 1, Integer::sum);
        }
    }

    /** The invariants, over every port reachable from the two spaces. */
    private static void check(IpcFixture f, String when) {
        Set<Port> ports = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Port> todo = new ArrayDeque<>();
        for (long task : new long[] {A, B}) {
            IpcSpace s = f.ipc.space(task);
            if (s == null) {
                continue;
            }
            for (IpcEntry e : s.all()) {
                if (e.port() != null) {
                    todo.add(e.port());
                }
            }
        }
        Map<IpcSpace, Long> perSpace = new IdentityHashMap<>();
        Map<Port, Integer> sendOnce = new IdentityHashMap<>(); // the notifications owed: one per send-once right
        for (long task : new long[] {A, B}) {
            IpcSpace s = f.ipc.space(task);
            if (s != null) {
                for (IpcEntry e : s.all()) {
                    if (e.port() != null && e.has(PortRight.SEND_ONCE)) {
                        sendOnce.merge(e.port(), 1, Integer::sum);
                    }
                }
            }
        }
        long total = 0;
        while (!todo.isEmpty()) {
            Port p = todo.poll();
            if (!ports.add(p)) {
                continue;
            }
            List<KMsg> msgs = new ArrayList<>();
            p.queue.messages().forEach(msgs::add);
            msgs.addAll(p.held);
            p.queue.blockedSenders.forEach(w -> msgs.add(w.msg));
            long notes = 0;
            for (KMsg m : msgs) {
                for (Carried c : m.rights()) {
                    owe(sendOnce, c);
                    if (c != null && c.port() != null) {
                        todo.add(c.port());
                    }
                }
                total += m.cost;
                if (m.notification) {
                    notes += m.cost; // counts in the port's share, whoever held the right when it was queued
                    perSpace.merge(p.notificationsChargedTo, m.cost, Long::sum);
                } else if (m.cost != 0) {
                    perSpace.merge(m.chargedTo, m.cost, Long::sum);
                }
            }
            same(p.notificationBytes, notes, when, "notification sum of " + p);
            for (Carried c : new Carried[] {p.nsRequest, p.pdRequest}) {
                owe(sendOnce, c);
                if (c != null && c.port() != null) {
                    todo.add(c.port());
                }
            }
            p.deadNameRequests.values().forEach(c -> {
                owe(sendOnce, c);
                if (c != null && c.port() != null) {
                    todo.add(c.port());
                }
            });
        }
        for (Port p : ports) {
            if (p.active) {
                same(p.sorights, sendOnce.getOrDefault(p, 0), when, "send-once rights of " + p + " (the notifications it owes)");
            }
        }
        same(f.ipc.queuedBytes(), total, when, "the kernel's count");
        for (long task : new long[] {A, B}) {
            IpcSpace s = f.ipc.space(task);
            if (s != null) {
                same(s.queuedBytes, perSpace.getOrDefault(s, 0L), when, "task " + task + "'s share");
            }
        }
    }
}
