package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.PagerConfig;
import io.machxp.pager.net.ProbeKernel;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * xp-spec 13.5: a group whose replicas keep their logs on disk ({@code --store}), stopped whole
 * and started again on the same stores, comes back with its sessions: a kernel that held a futex
 * resumes its session at the new leader, and its release passes the futex to a waiter without
 * OWNER_DIED and with a greater token. (From the ratis review, which found this untested: the
 * other failover tests stop one replica at a time.)
 */
class WholeGroupRestartTest {
    @TempDir
    Path store;

    /** Starts the three replicas at once (each start waits for its Raft server; one after the other took seconds). */
    private static List<ReplicatedPager> start(PagerConfig config, Map<String, String> addresses) throws Exception {
        List<java.util.concurrent.CompletableFuture<ReplicatedPager>> starting = new ArrayList<>();
        for (String id : addresses.keySet()) {
            starting.add(OwnThreads.supply("replica-start", () -> {
                try {
                    return ReplicatedPager.start(config, new ReplicaConfig(id, addresses)
                            .withElectionTimeout(ReplicaTrio.ELECTION_TIMEOUT));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        List<ReplicatedPager> started = new ArrayList<>();
        Exception failed = null;
        for (var f : starting) {
            try {
                started.add(f.join());
            } catch (java.util.concurrent.CompletionException e) {
                failed = e;
            }
        }
        if (failed != null) {
            close(started);
            throw failed;
        }
        return started;
    }

    /**
     * Closes the replicas at once, each on a thread of its own (the whole group stops; each close
     * waits for its Raft server, so not on the common pool, whose one worker on 2 CPUs would run them
     * one after the other).
     */
    private static void close(List<ReplicatedPager> replicas) {
        java.util.concurrent.CompletableFuture.allOf(replicas.stream()
                .map(r -> OwnThreads.run("replica-close", r::close))
                .toArray(java.util.concurrent.CompletableFuture[]::new)).join();
    }

    private static ReplicatedPager leader(List<ReplicatedPager> replicas) {
        return Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> replicas.stream().filter(ReplicatedPager::takesKernels).findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    private static KernelToPager hello(String name) {
        return KernelToPager.newBuilder().setKernelHello(ProbeKernel.hello(name).getKernelHello().toBuilder()
                .setResumable(true)).build();
    }

    @Test
    void aGroupStoppedWholeComesBackWithItsSessionsAndGrants() throws Exception {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 16 * 4096L))
                .withLease(Duration.ofSeconds(20)).withFreshStart(true).withStoreDir(Files.createDirectories(store));
        Map<String, String> addresses = ReplicaConfig.loopback(3);
        List<ReplicatedPager> first = start(config, addresses);
        PagerWelcome welcome;
        long token;
        try (ProbeKernel holder = new ProbeKernel(leader(first).address())) {
            holder.send(hello("holder"));
            welcome = holder.await(PagerToKernel::hasPagerWelcome).getPagerWelcome();
            holder.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                    .setName("obj").setPageSize(4096)).build());
            holder.await(PagerToKernel::hasMemoryObjectReady);
            holder.send(ProbeKernel.lock(0));
            token = holder.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted()
                    .getFencingToken();
            holder.barrier();
        } finally {
            close(first); // the whole group stops
        }
        List<ReplicatedPager> again = start(config, addresses);
        try {
            ReplicatedPager leader = leader(again);
            try (ProbeKernel resumed = new ProbeKernel(leader.address())) {
                resumed.send(KernelToPager.newBuilder().setKernelHello(hello("holder").getKernelHello().toBuilder()
                        .setResume(Resume.newBuilder().setKernelId(welcome.getKernelId())
                                .setSessionToken(welcome.getSessionToken()).setReceived(3).setAttempt(1))).build());
                PagerToKernel answer = resumed.awaitOrEnd();
                assertThat(answer).as("the resume's answer (%s)", leader.describe()).isNotNull();
                assertThat(answer.getPagerWelcome().getResumed()).isTrue();
                try (ProbeKernel waiter = ProbeKernel.welcomed(leader.address(), "waiter")) {
                    waiter.send(ProbeKernel.lock(0));
                    waiter.barrier();
                    resumed.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                            .newBuilder().setObjectId(1).setOffset(0).setFencingToken(token)).build());
                    var grant = waiter.await(PagerToKernel::hasMemoryObjectFutexGranted).getMemoryObjectFutexGranted();
                    assertThat(grant.getOwnerDied()).isFalse();
                    assertThat(grant.getFencingToken()).isGreaterThan(token);
                }
            }
        } finally {
            close(again);
        }
    }
}
