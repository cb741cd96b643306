package io.machxp.pager.replica;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.net.CallerPeer;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.transport.ClientPeer;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A replica's XP service over a modelled group, for counting the log's order without timing: the
 * group appends each kernel message to {@link #log} and completes its append (applies it) only
 * when the test completes its future in {@link #commits}; Ratis's pending-write byte limit is
 * modelled as Ratis 3.3.0 counts it ({@link #refused}). Kernels' streams are {@link Call}s,
 * gRPC's delivery modelled (what arrived is handed over while requested).
 */
abstract class ReplicaAppendHarness {
    final List<String> log = new ArrayList<>();
    final List<CompletableFuture<Boolean>> commits = new ArrayList<>();
    /** The size of each appended kernel message, by the order of {@link #commits}. */
    final List<Integer> sizes = new ArrayList<>();
    long sessions;
    /** Bytes pending as Ratis counts them (each entry's size), and how many appends it refused for them. */
    long ratisPending;
    int refused;
    /** What the group does with the next appends: null, append; else fail them so. */
    Throwable failAppends;
    final ReplicaXpService.Group group = new ReplicaXpService.Group() {
        @Override
        public boolean takesKernels() {
            return true;
        }

        @Override
        public Opened openSession(java.util.function.LongConsumer hold, String peer) {
            long id = ++sessions;
            hold.accept(id);
            return new Opened(id, CompletableFuture.completedFuture(true));
        }

        @Override
        public String[] leader() {
            return null;
        }

        @Override
        public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
            if (failAppends != null) {
                return CompletableFuture.failedFuture(failAppends);
            }
            if (entry.hasSessionClosed()) {
                log.add(entry.getSessionClosed().getSessionId() + " session_closed");
                return CompletableFuture.completedFuture(true);
            }
            KernelToPager m = entry.getKernelMessage().getMessage();
            // As Ratis 3.3.0 counts pending writes (PendingRequests): in whole MiB, the request's
            // size rounded up taken beside the total rounded up, refused past the limit.
            int size = m.getSerializedSize() + 64;
            if (mib(ratisPending) + mib(size) > RaftSettings.PENDING_WRITE_BYTES >> 20) {
                refused++;
                return CompletableFuture.completedFuture(false);
            }
            ratisPending += size;
            log.add(entry.getKernelMessage().getSessionId() + " " + m.getRoutineCase().name().toLowerCase());
            CompletableFuture<Boolean> commit = new CompletableFuture<>();
            commit.whenComplete((ok, e) -> ratisPending -= size);
            commits.add(commit);
            sizes.add(m.getSerializedSize());
            return commit;
        }

        @Override
        public String id() {
            return "r";
        }
    };
    /** A drain rate as if measured: so many entries and bytes applied a second (the clock stands still). */
    static DrainRate measuredRate(double entriesPerSecond, double bytesPerSecond) {
        DrainRate r = new DrainRate(() -> 0L);
        r.take(entriesPerSecond / 1e9, bytesPerSecond / 1e9);
        return r;
    }

    static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    long pendingBytes() {
        long n = 0;
        for (int i = 0; i < commits.size(); i++) {
            n += commits.get(i).isDone() ? 0 : sizes.get(i);
        }
        return n;
    }

    /** A kernel's stream from {@code peer} (null: none known, a peer of its own). */
    Call kernel(String name, ClientPeer peer, ReplicaXpService to) {
        Call c = new Call();
        c.session = sessions + 1;
        io.grpc.Context from = peer == null ? io.grpc.Context.current() : CallerPeer.context(peer);
        io.grpc.Context previous = from.attach(); // as CallerPeer's interceptor has it while the call starts
        try {
            c.listener = to.connect(c);
        } finally {
            from.detach(previous);
        }
        if (c.auto) {
            c.request(1); // what gRPC's ServerCalls does after the method returns
        }
        c.arrive(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setResumable(true)).build());
        c.deliver();
        return c;
    }

    /** A kernel's call as gRPC runs it: what arrived is handed over while requested. */
    static final class Call extends StubServerCall {
        final ArrayDeque<KernelToPager> arrived = new ArrayDeque<>();
        StreamObserver<KernelToPager> listener;
        boolean auto = true;
        int requested;
        boolean delivering;
        /** The session id its hello opens. */
        long session;
        /** The kernel half-closed: handed over once what arrived before it is taken, as gRPC does. */
        boolean halfClosed;
        private boolean halfCloseGiven;
        /** How the pager ended the stream, if it did with an error. */
        Throwable ended;

        @Override
        public void onError(Throwable t) {
            ended = t;
            closeCall();
        }

        @Override
        public void onCompleted() {
            closeCall();
        }

        void arrive(KernelToPager m) {
            arrived.add(m);
        }

        @Override
        public void disableAutoRequest() {
            auto = false;
        }

        @Override
        public void request(int count) {
            requested += count;
            deliver();
        }

        void deliver() {
            if (delivering || listener == null) {
                return;
            }
            delivering = true;
            try {
                while (requested > 0 && !arrived.isEmpty()) {
                    requested--;
                    listener.onNext(arrived.poll());
                    if (auto) {
                        requested++;
                    }
                }
                if (halfClosed && arrived.isEmpty() && !halfCloseGiven) {
                    halfCloseGiven = true;
                    listener.onCompleted();
                }
            } finally {
                delivering = false;
            }
        }
    }
}
