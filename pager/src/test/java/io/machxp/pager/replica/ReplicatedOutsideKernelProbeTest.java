package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.net.ProbeKernel;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectChangeCompleted;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.MemoryObjectSynchronize;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.Resume;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel written from xp.proto and xp-spec alone, probing the replicated pager with what a
 * hostile or buggy kernel sends: malformed and extreme field values (ids at 0 and 2^32-1, offsets
 * and lengths at 2^64-1, tokens and counts at 2^64-1), a message just under gRPC's 4 MiB, a
 * release carrying 100,000 pages, a message of a routine this pager does not know, hellos out of
 * place and resumes with bogus counts. Every such message becomes a Raft log entry applied on
 * every replica; after each the group must answer exactly as the unreplicated pager does (the
 * status and errno a stream ends with, or the messages answered before a keepalive barrier), go
 * on serving a well-behaved kernel, and its replicas must have applied the same entries alike.
 * <p>
 * What is judged is how a leader answers. On a loaded host the leadership moves with no fault
 * injected ({@link ReplicaTrio.Leadership}), and a replica that stops leading ends its kernels'
 * streams (UNAVAILABLE, no errno, xp-spec 13.3) whatever they sent: a step that the leadership
 * moved under runs again on the new leader with fresh kernel names ({@link #onAStableLeader}); a
 * step that ran under one leader and term counts as it ended.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicatedOutsideKernelProbeTest {
    private static final long SIZE = 16 * 4096;
    private static final long MAX = -1L; // 2^64-1 as a uint64
    private static final int MAX32 = -1; // 2^32-1 as a uint32
    private static ReplicaTrio group;
    private static Pager single;
    /** How many times a step runs at most while the leadership moves under it. */
    private static final int ATTEMPTS = 3;

    @BeforeAll
    static void start() throws Exception {
        group = new ReplicaTrio(Map.of("obj", SIZE), Duration.ofSeconds(5));
        single = Pager.start(PagerConfig.loopback(Map.of("obj", SIZE)).withLease(Duration.ofSeconds(5))
                .withFreshStart(true));
    }

    @AfterAll
    static void stop() {
        if (single != null) {
            single.close();
        }
        if (group != null) {
            group.close();
        }
    }

    /**
     * A data_return (of no page: dropped, 3.4) whose encoding is {@code bytes} long: gRPC's default
     * limit on a message, 4 MiB, is the most a kernel can send a pager whole.
     */
    private static KernelToPager ofSize(int bytes) {
        int data = bytes;
        while (true) {
            KernelToPager m = KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setDirty(true).setData(ByteString.copyFrom(new byte[data]))).build();
            if (m.getSerializedSize() == bytes) {
                return m;
            }
            data += bytes - m.getSerializedSize();
        }
    }

    /** How a probe ended: the stream's status and errno, or "open"; and what the pager answered first. */
    private record Outcome(String end, List<String> answered) {}

    private static KernelToPager.Builder hello(String name) {
        return ProbeKernel.hello(name);
    }

    private static KernelToPager keepalive(long sequence, long received) {
        return KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence)
                .setReceived(received)).build();
    }

    /**
     * Sends the script (after a welcome and an init of "obj" as id 1 if {@code welcomed}), then a
     * keepalive as a barrier: what the pager sent up to its answer, or up to the stream's end.
     */
    private static Outcome probe(String target, String name, boolean welcomed, List<KernelToPager> script)
            throws Exception {
        try (ProbeKernel k = welcomed ? ProbeKernel.welcomed(target, name) : new ProbeKernel(target)) {
            script.forEach(k::send);
            k.send(keepalive(1L << 40, 0));
            List<String> answered = new ArrayList<>();
            while (true) {
                PagerToKernel m = k.awaitOrEnd();
                if (m == null) {
                    com.google.rpc.Status s = k.end.get(30, TimeUnit.SECONDS);
                    return new Outcome(io.grpc.Status.fromCodeValue(s.getCode()).getCode() + " "
                            + ProbeKernel.reason(s), answered);
                }
                if (m.hasPagerKeepalive() && m.getPagerKeepalive().getSequence() == 1L << 40) {
                    return new Outcome("open", answered);
                }
                answered.add(m.getRoutineCase().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    /** A step of a test, run on the leader {@code watch} names; {@code attempt} counts from 1 (fresh names after the first). */
    private interface Step<T> {
        T run(LeaderWatch watch, int attempt) throws Exception;
    }

    /**
     * The leadership a step runs under: the leader and term when it began, or those the step moved
     * it to itself ({@link #follow}, after a transfer it asked for).
     */
    private static final class LeaderWatch {
        private ReplicaTrio.Leadership at = group.leadership();

        ReplicatedPager leader() {
            return at.leader();
        }

        /** The step moved the leadership on purpose: the new leader and its term are watched from now on. */
        ReplicatedPager follow() {
            at = group.leadership();
            return at.leader();
        }

        boolean moved() {
            return at.moved();
        }
    }

    /**
     * Runs {@code step} on the group's leader; again, at most {@link #ATTEMPTS} times in all, when
     * the leadership moved while it ran and the step did not move it itself. A step that kept its
     * leader and term counts as it ended, pass or fail; a failure of one that lost them says nothing
     * of the rule (its stream ended as the leader stepped down), and is printed.
     */
    private static <T> T onAStableLeader(String what, Step<T> step) throws Exception {
        for (int attempt = 1; ; attempt++) {
            LeaderWatch watch = new LeaderWatch();
            T result = null;
            Throwable failure = null;
            try {
                result = step.run(watch, attempt);
            } catch (Exception | AssertionError e) {
                failure = e;
            }
            boolean moved = watch.moved();
            if (!moved || attempt == ATTEMPTS) {
                if (failure instanceof Exception e) {
                    throw e;
                } else if (failure != null) {
                    throw (AssertionError) failure;
                }
                if (moved) {
                    throw new AssertionError(what + ": the leadership moved under each of " + ATTEMPTS + " attempts");
                }
                return result;
            }
            System.out.println(what + ": the leadership moved under attempt " + attempt
                    + (failure == null ? "" : " (" + failure + ")") + "; again on the new leader");
        }
    }

    /** The name of attempt {@code attempt}'s kernel: {@code name}, then fresh ones (a session may hold its name for a lease). */
    private static String named(String name, int attempt) {
        return attempt == 1 ? name : name + "-" + attempt;
    }

    /** The replicas applied the same entries and counted the same messages. */
    private static void replicasAgree() {
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            long applied = group.awaitApplied();
            ReplicatedPager first = group.replicas.get(0);
            for (ReplicatedPager r : group.replicas) {
                assertThat(r.logStatus().applied()).isEqualTo(applied);
                assertThat(r.stats().receivedByRoutine()).as("replica %s", r.id())
                        .isEqualTo(first.stats().receivedByRoutine());
                assertThat(r.stats().sentByRoutine()).as("replica %s", r.id()).isEqualTo(first.stats().sentByRoutine());
                assertThat(r.stats().fenced()).isEqualTo(first.stats().fenced());
            }
        });
    }

    /** A well-behaved kernel is served: welcomed, its object ready, a futex granted. */
    private static void aWellBehavedKernelIsServed(String name) throws Exception {
        onAStableLeader("a well-behaved kernel", (watch, attempt) -> {
            try (ProbeKernel k = ProbeKernel.welcomed(watch.leader().address(), named(name, attempt))) {
                k.send(ProbeKernel.lock(0));
                assertThat(k.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                        .getOffset()).isZero();
                k.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                        .setObjectId(1).setOffset(0)).build());
                k.barrier();
            }
            return null;
        });
    }

    /**
     * Each probe on a fresh stream of each pager: the replicated one answers as the unreplicated one
     * does, and both as xp-spec says ({@code expected}: the end of the stream, "open" if it goes on).
     */
    private static void sameAsTheUnreplicatedPager(Map<String, List<KernelToPager>> probes,
            Map<String, String> expected, boolean welcomed) throws Exception {
        int n = 0;
        for (Map.Entry<String, List<KernelToPager>> p : probes.entrySet()) {
            String name = (welcomed ? "w" : "f") + n++;
            Outcome unreplicated = probe(single.target(), name, welcomed, p.getValue());
            Outcome replicated = onAStableLeader(p.getKey(), (watch, attempt) -> probe(watch.leader().address(),
                    named(name, attempt), welcomed, p.getValue()));
            assertThat(replicated).as(p.getKey()).isEqualTo(unreplicated);
            assertThat(unreplicated.end()).as(p.getKey()).isEqualTo(expected.get(p.getKey()));
        }
        replicasAgree();
        aWellBehavedKernelIsServed(welcomed ? "after-welcomed" : "after-first");
        replicasAgree();
    }

    @Test
    void firstMessagesAreJudgedAsTheUnreplicatedPagerJudgesThem() throws Exception {
        Map<String, List<KernelToPager>> probes = new LinkedHashMap<>();
        probes.put("no routine", List.of(KernelToPager.getDefaultInstance()));
        probes.put("an unknown routine (field 100)", List.of(KernelToPager.parseFrom(new byte[] {(byte) 0xA0, 0x06, 0x01})));
        probes.put("protocol 0", List.of(hello("v0").setKernelHello(hello("v0").getKernelHello().toBuilder()
                .setProtocolVersion(0)).build()));
        probes.put("protocol 2^32-1", List.of(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                .setKernelName("vmax").setProtocolVersion(MAX32)).build()));
        probes.put("a keepalive first", List.of(keepalive(1, 0)));
        probes.put("an empty name", List.of(hello("").build()));
        probes.put("a name of a mebibyte", List.of(hello("n".repeat(1 << 20)).build()));
        probes.put("a resume of ids and counts at their top", List.of(KernelToPager.newBuilder().setKernelHello(
                hello("rmax").getKernelHello().toBuilder().setResumable(true).setResume(Resume.newBuilder()
                        .setKernelId(MAX32).setSessionToken(MAX).setReceived(MAX).setAttempt(MAX))).build()));
        probes.put("a resume of zeros", List.of(KernelToPager.newBuilder().setKernelHello(
                hello("r0").getKernelHello().toBuilder().setResumable(true).setResume(Resume.getDefaultInstance()))
                .build()));
        probes.put("a reclaim of id 2^32-1", List.of(KernelToPager.newBuilder().setKernelHello(
                hello("cmax").getKernelHello().toBuilder().setReclaim(Reclaim.newBuilder().setKernelId(MAX32)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(MAX32).setName("obj").setPageSize(4096))))
                .build()));
        KernelToPager lastPart = KernelToPager.newBuilder().setMemoryObjectReclaimContinue(
                io.machxp.proto.xp.MemoryObjectReclaimContinue.newBuilder().addObjects(ReclaimedObject.newBuilder()
                        .setObjectId(1).setName("obj").setPageSize(4096))).build();
        probes.put("a reclaim in parts", List.of(KernelToPager.newBuilder().setKernelHello(hello("parts")
                .getKernelHello().toBuilder().setProtocolVersion(2).setReclaim(Reclaim.newBuilder().setKernelId(3).setContinues(true)
                        .addObjects(ReclaimedObject.newBuilder().setObjectId(1).setName("obj").setPageSize(4096))))
                .build(), lastPart));
        probes.put("a reclaim's part first", List.of(lastPart));
        List<String> features = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            features.add("f" + i);
        }
        probes.put("100,000 features", List.of(KernelToPager.newBuilder().setKernelHello(
                hello("feat").getKernelHello().toBuilder().addAllFeatures(features)).build()));
        Map<String, String> expected = new LinkedHashMap<>();
        for (String badMessage : List.of("no routine", "an unknown routine (field 100)")) {
            expected.put(badMessage, "INVALID_ARGUMENT EBADMSG");
        }
        expected.put("protocol 0", "UNIMPLEMENTED EPROTONOSUPPORT");
        expected.put("protocol 2^32-1", "UNIMPLEMENTED EPROTONOSUPPORT");
        expected.put("a keepalive first", "FAILED_PRECONDITION EPROTO");
        expected.put("an empty name", "INVALID_ARGUMENT EINVAL");
        expected.put("a name of a mebibyte", "INVALID_ARGUMENT EINVAL"); // 3.3: a bad name, whatever its length
        expected.put("a reclaim's part first", "FAILED_PRECONDITION EPROTO"); // 3.2, 9.4
        for (String refused : List.of("a resume of ids and counts at their top", "a resume of zeros",
                "a reclaim of id 2^32-1", "a reclaim in parts")) {
            expected.put(refused, "FAILED_PRECONDITION ESTALE"); // 4.7, and 9.4 at a pager that did not restart
        }
        expected.put("100,000 features", "open"); // names it does not know, a pager ignores
        sameAsTheUnreplicatedPager(probes, expected, false);
    }

    @Test
    void messagesOfAWelcomedSessionAreJudgedAsTheUnreplicatedPagerJudgesThem() throws Exception {
        Map<String, List<KernelToPager>> probes = new LinkedHashMap<>();
        probes.put("a second hello", List.of(hello("again").build()));
        probes.put("a data_return of gRPC's whole 4 MiB", List.of(ofSize(4 << 20)));
        MemoryObjectFutexReleased.Builder many = MemoryObjectFutexReleased.newBuilder().setObjectId(1).setFencingToken(MAX);
        for (int i = 0; i < 100_000; i++) {
            many.addPages(PageData.newBuilder().setOffset((long) i * 4096).setDirty(true));
        }
        probes.put("a release of 100,000 pages", List.of(KernelToPager.newBuilder().setMemoryObjectFutexReleased(many)
                .build()));
        probes.put("ids and offsets at their top", List.of(
                KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(MAX32).setOffset(MAX)).build(),
                KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(1).setOffset(MAX - 3).setPriority(MAX32)).build(),
                KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                        .setObjectId(0).setOffset(0)).build(),
                KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                        .setObjectId(MAX32)).build(),
                KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                        .setObjectId(1).setOffset(MAX).setFencingToken(MAX)).build(),
                KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                        .setObjectId(1).setOffset(0).setInitiator(MAX32).setWait(MAX).setHops(MAX32)).build()));
        probes.put("ranges at their top", List.of(
                KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(1).setOffset(MAX - 4095).setLength(MAX).setDesiredAccess(VmProt.VM_PROT_READ)).build(),
                KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(1).setOffset(0).setLength(Long.MIN_VALUE)).build(),
                KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                        .setObjectId(1).setOffset(4096).setLength(MAX - 4095)).build(),
                KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                        .setObjectId(1).setOffset(MAX).setLength(MAX)).build(),
                KernelToPager.newBuilder().setMemoryObjectSynchronize(MemoryObjectSynchronize.newBuilder()
                        .setObjectId(1).setOffset(MAX - 4095).setLength(8192)).build(),
                KernelToPager.newBuilder().setMemoryObjectSupplyCompleted(MemoryObjectSupplyCompleted.newBuilder()
                        .setObjectId(1).setOffset(MAX).setLength(MAX).setError("x")).build(),
                KernelToPager.newBuilder().setMemoryObjectChangeCompleted(MemoryObjectChangeCompleted.newBuilder()
                        .setObjectId(MAX32).setError("y")).build()));
        probes.put("an init of id 2^32-1 and one of another page size", List.of(
                KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(MAX32)
                        .setName("obj").setPageSize(4096)).build(),
                KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(2)
                        .setName("obj").setPageSize(MAX32)).build()));
        probes.put("an init naming an object of nearly 4 MiB", List.of(KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(3).setName("o".repeat((4 << 20) - 40)).setPageSize(4096))
                .build()));
        probes.put("keepalives at their top", List.of(keepalive(MAX, MAX), keepalive(0, 0)));
        probes.put("an unknown routine", List.of(KernelToPager.parseFrom(new byte[] {(byte) 0xA0, 0x06, 0x01})));
        probes.put("a reclaim's part after the welcome", List.of(KernelToPager.newBuilder()
                .setMemoryObjectReclaimContinue(io.machxp.proto.xp.MemoryObjectReclaimContinue.getDefaultInstance())
                .build()));
        Map<String, String> expected = new LinkedHashMap<>();
        probes.keySet().forEach(k -> expected.put(k, "open")); // dropped or answered (3.4, 3.5)
        expected.put("a second hello", "FAILED_PRECONDITION EPROTO");
        expected.put("a reclaim's part after the welcome", "FAILED_PRECONDITION EPROTO"); // 3.2, 9.4
        expected.put("an unknown routine", "INVALID_ARGUMENT EBADMSG");
        sameAsTheUnreplicatedPager(probes, expected, true);
    }

    private static KernelToPager resume(String name, io.machxp.proto.xp.PagerWelcome w, long received, long attempt) {
        return KernelToPager.newBuilder().setKernelHello(hello(name).getKernelHello().toBuilder().setResumable(true)
                .setResume(Resume.newBuilder().setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken())
                        .setReceived(received).setAttempt(attempt))).build();
    }

    /** How a stream that must end ended: its code and errno ("null": none, not the pager's word). */
    private static String ending(ProbeKernel k) throws Exception {
        com.google.rpc.Status s = k.end.get(30, TimeUnit.SECONDS);
        return io.grpc.Status.fromCodeValue(s.getCode()).getCode() + " " + ProbeKernel.reason(s);
    }

    /**
     * xp-spec 13.2 and 4.7 at a failover, by a kernel that ignores a redirect and resumes with wrong
     * counts: a follower redirects a resume to the leader and takes nothing, also of what the kernel
     * sends after the redirect; a replica that stops leading ends the kernel's stream without an
     * errno; at the new leader a resume whose received is above what the pager sent, or whose
     * attempt is not above the last taken, is refused ESTALE and changes nothing, and the right one
     * is taken with the exact count of the kernel's messages, the futex still the kernel's.
     */
    @Test
    void aKernelThatIgnoresRedirectsAndResumesWithWrongCountsIsAnsweredAsXpSpecSays() throws Exception {
        onAStableLeader("the resumes", (watch, attempt) -> {
            resumesAtAFailover(watch, named("resumer", attempt));
            return null;
        });
        replicasAgree();
    }

    private static void resumesAtAFailover(LeaderWatch watch, String name) throws Exception {
        ReplicatedPager leader = watch.leader();
        ProbeKernel k = new ProbeKernel(leader.address());
        io.machxp.proto.xp.PagerWelcome w;
        long token;
        try {
            k.send(KernelToPager.newBuilder().setKernelHello(hello(name).getKernelHello().toBuilder()
                    .setResumable(true)).build());
            w = k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                    .setName("obj").setPageSize(4096)).build()); // kernel message 1; pager's 1: ready
            k.await(PagerToKernel::hasMemoryObjectReady);
            k.send(ProbeKernel.lock(0)); // 2; pager's 2: the grant
            token = k.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted().getFencingToken();
            k.barrier(); // 3; pager's 3: its answer
        } finally {
            k.close();
        }
        ReplicatedPager follower = group.follower();
        long appliedBefore = group.awaitApplied();
        try (ProbeKernel ignoring = new ProbeKernel(follower.address())) {
            ignoring.send(resume(name, w, 3, 1));
            ignoring.send(ProbeKernel.lock(4)); // the redirect ignored
            assertThat(ignoring.awaitOrEnd().getPagerRedirect().getLeader()).isEqualTo(leader.address());
            assertThat(ending(ignoring)).isEqualTo("UNAVAILABLE null");
        }
        assertThat(group.awaitApplied()).as("the follower appended nothing").isEqualTo(appliedBefore);

        try (ProbeKernel parked = new ProbeKernel(leader.address())) {
            parked.send(resume(name, w, 3, 1)); // taken: the session moves to this stream
            assertThat(parked.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getReceived()).isEqualTo(3);
            parked.barrier(); // kernel message 4, pager message 4
            String to = group.replicas.stream().filter(r -> r != leader).findFirst().orElseThrow().id();
            leader.transferLeadership(to, Duration.ofSeconds(20));
            assertThat(ending(parked)).as("a replica that stops leading ends the stream, no errno")
                    .isEqualTo("UNAVAILABLE null");
        }
        ReplicatedPager next = watch.follow();
        assertThat(next).isNotSameAs(leader);
        Object[][] refused = {{5L, 2L, "received above what the pager sent"}, {4L, 1L, "an attempt already taken"},
            {4L, 0L, "attempt 0"}};
        for (Object[] r : refused) {
            try (ProbeKernel bogus = new ProbeKernel(next.address())) {
                bogus.send(resume(name, w, (Long) r[0], (Long) r[1]));
                assertThat(bogus.awaitOrEnd()).as((String) r[2]).isNull();
                assertThat(ending(bogus)).as((String) r[2]).isEqualTo("FAILED_PRECONDITION ESTALE");
            }
        }
        try (ProbeKernel resumed = new ProbeKernel(next.address())) {
            resumed.send(resume(name, w, 4, 2));
            io.machxp.proto.xp.PagerWelcome again = resumed.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            assertThat(again.getResumed()).isTrue();
            assertThat(again.getReceived()).as("the kernel's messages the log took").isEqualTo(4);
            resumed.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(1).setOffset(0).setFencingToken(token)).build());
            resumed.barrier();
            try (ProbeKernel other = ProbeKernel.welcomed(next.address(), "after-resume")) {
                other.send(ProbeKernel.lock(0));
                var grant = other.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted();
                assertThat(grant.getOwnerDied()).as("the holder released it, through the failover").isFalse();
                assertThat(grant.getFencingToken()).isGreaterThan(token);
            }
        }
    }

    /**
     * xp-spec 4.4 for a kernel that does not offer to resume (no `resumable` in its hello, so it has
     * no session token and can never resume, 4.7): when its stream breaks, the pager forgets a
     * session holding nothing at once, and keeps one holding a futex broken (its name held, EAGAIN)
     * until its lease ends, as the unreplicated pager does. The replicated pager kept both live
     * (13.3 keeps a session for a resume that such a kernel cannot send), so the kernel, coming back
     * with a fresh hello, was told its name belongs to a live kernel (EEXIST) for a lease.
     */
    @Test
    void aKernelThatCannotResumeIsForgottenOrBrokenWhenItsStreamBreaks() throws Exception {
        String[][] cases = {{"plain-idle", "welcomed"}, {"plain-holder", "EAGAIN"}};
        for (String[] c : cases) {
            onAStableLeader(c[0], (watch, attempt) -> {
                breakAndComeBack(watch.leader(), named(c[0], attempt), c[1]);
                return null;
            });
        }
        replicasAgree();
    }

    /** Kernel {@code name} (holding a futex if {@code expected} is EAGAIN) crashes and says hello again: {@code expected}. */
    private static void breakAndComeBack(ReplicatedPager leader, String name, String expected) throws Exception {
        try (ProbeKernel k = ProbeKernel.welcomed(leader.address(), name)) {
            if (expected.equals("EAGAIN")) {
                k.send(ProbeKernel.lock(64));
                k.await(PagerToKernel::hasMemoryObjectFutexGranted);
            }
            k.barrier();
            k.crash();
        }
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> leader.streamCount() == 0);
        try (ProbeKernel again = new ProbeKernel(leader.address())) {
            again.send(hello(name).build());
            PagerToKernel first = again.awaitOrEnd();
            String outcome = first != null && first.hasPagerWelcome() ? "welcomed" : ProbeKernel.reason(
                    again.end.get(30, TimeUnit.SECONDS));
            assertThat(outcome).as(name).isEqualTo(expected);
        }
    }
}
