package io.machxp.kernel.core;

import com.google.protobuf.CodedOutputStream;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReclaimContinue;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;

/**
 * The bounds on a reclaim's size (docs/xp-spec.md 9.4), and its split into parts. A pager's
 * transport takes a kernel message of at most 4 MiB (gRPC's default): a reclaim larger than
 * {@link #PART_BYTES} travels in parts (the kernel_hello, then memory_object_reclaim_continue
 * messages) to a pager whose welcome said it takes them, and the parts together stay within
 * {@link #MAX_BYTES} (a pager takes 64 MiB in all). Part of the kernel core ({@link SessionReclaim}):
 * core thread only.
 *
 * <h2>Overview</h2>
 * A message over the transport's bound would be refused with no word of the pager
 * (RESOURCE_EXHAUSTED without ErrorInfo), and a reclaim over the pager's total with EAGAIN: the
 * kernel would lose the writes the reclaim exists to save. So before it is sent:
 * <pre>
 *  reclaim within the bound         -> sent as built (the bound: MAX_BYTES in all to a pager that
 *                                      takes parts; else PART_BYTES, one message)
 *  over it                          -> every page held read-only, without data, that the kernel
 *                                      may drop (not precious, nothing waiting on it) leaves the
 *                                      account and is dropped here: a later access pages it in
 *                                      again. Futexes, writable pages and data given back stay.
 *  still over it                    -> sent as it is (the kernel logs it): nothing more can go
 *                                      without losing a write
 *  over PART_BYTES, pager takes parts -> {@link #split}: the hello with the first objects and
 *                                      {@code continues}, then parts of at most PART_BYTES each
 *                                      (an object's futexes and pages may spread over several
 *                                      parts, its id, name and page size named again in each)
 * </pre>
 */
final class ReclaimBound {
    /** The most bytes of one reclaim message: 3.5 MiB, a margin under the transport's 4 MiB. */
    static final int PART_BYTES = 7 << 19;
    /**
     * The most bytes of a whole reclaim (its parts' messages, summed) to a pager that takes parts:
     * 60 MiB, under the 64 MiB a pager takes, with room for the object headers each part repeats.
     */
    static final int MAX_BYTES = 60 << 20;
    /** The protocol version of a kernel_hello whose reclaim continues: 1 and the reclaim in parts (xp-spec 2.3). */
    static final int PARTS_VERSION = 2;
    /** Room in each part for the envelope, the hello's own fields and an object's header. */
    private static final int PART_MARGIN = 64 << 10;

    /** Whether the kernel may drop a read-only page it holds (at {@code objectId}, {@code offset}) and drops it. */
    interface Dropper {
        boolean drop(int objectId, long offset);
    }

    private ReclaimBound() {}

    /**
     * The reclaim of {@code hello} fitted within {@code maxBytes} as the overview says; {@code
     * dropped[0]} counts the pages dropped. Returns the hello to send.
     */
    static KernelToPager fit(KernelToPager hello, int maxBytes, Dropper dropper, int[] dropped) {
        if (hello.getSerializedSize() <= maxBytes) {
            return hello;
        }
        Reclaim r = hello.getKernelHello().getReclaim();
        Reclaim.Builder fitted = r.toBuilder().clearObjects();
        for (ReclaimedObject o : r.getObjectsList()) {
            ReclaimedObject.Builder ro = o.toBuilder().clearPages();
            for (ReclaimedPage p : o.getPagesList()) {
                boolean readOnlyClean = p.getAccess() == VmProt.VM_PROT_READ && p.getData().isEmpty();
                if (readOnlyClean && dropper.drop(o.getObjectId(), p.getOffset())) {
                    dropped[0]++;
                } else {
                    ro.addPages(p);
                }
            }
            fitted.addObjects(ro);
        }
        return hello.toBuilder().setKernelHello(hello.getKernelHello().toBuilder().setReclaim(fitted)).build();
    }

    /**
     * The messages that carry the reclaim of {@code hello}: {@code hello} alone if it is within
     * {@code partBytes}; else the hello with the first objects and {@code continues}, then
     * memory_object_reclaim_continue messages, each within {@code partBytes}, the last without
     * {@code continues}.
     */
    static List<KernelToPager> split(KernelToPager hello, int partBytes) {
        if (hello.getSerializedSize() <= partBytes) {
            return List.of(hello);
        }
        int budget = partBytes - Math.min(PART_MARGIN, partBytes / 16);
        List<List<ReclaimedObject>> parts = new ArrayList<>();
        List<ReclaimedObject> part = new ArrayList<>();
        int used = 0;
        for (ReclaimedObject o : hello.getKernelHello().getReclaim().getObjectsList()) {
            ReclaimedObject header = o.toBuilder().clearFutexes().clearPages().build();
            ReclaimedObject.Builder piece = header.toBuilder();
            int pieceBytes = header.getSerializedSize() + 16;
            boolean empty = true;
            List<Object> entries = new ArrayList<>(o.getFutexesList());
            entries.addAll(o.getPagesList());
            for (Object e : entries) {
                int size = e instanceof ReclaimedPage p ? CodedOutputStream.computeMessageSize(5, p)
                        : CodedOutputStream.computeMessageSize(4, (com.google.protobuf.MessageLite) e);
                if (used + pieceBytes + size > budget && (!empty || !part.isEmpty())) {
                    if (!empty) {
                        part.add(piece.build());
                    }
                    parts.add(part);
                    part = new ArrayList<>();
                    used = 0;
                    piece = header.toBuilder();
                    pieceBytes = header.getSerializedSize() + 16;
                    empty = true;
                }
                if (e instanceof ReclaimedPage p) {
                    piece.addPages(p);
                } else {
                    piece.addFutexes((io.machxp.proto.xp.ReclaimedFutex) e);
                }
                pieceBytes += size;
                empty = false;
            }
            part.add(piece.build()); // an object with nothing in it is named too (as by init)
            used += pieceBytes;
        }
        parts.add(part);
        List<KernelToPager> messages = new ArrayList<>(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            boolean continues = i < parts.size() - 1;
            if (i == 0) {
                Reclaim r = hello.getKernelHello().getReclaim().toBuilder().clearObjects().addAllObjects(parts.get(0))
                        .setContinues(continues).build();
                // The gate (xp-spec 2.3): a hello announcing parts says version 2, which a pager that
                // does not take parts refuses before it records anything.
                messages.add(hello.toBuilder().setKernelHello(hello.getKernelHello().toBuilder().setReclaim(r)
                        .setProtocolVersion(continues ? PARTS_VERSION : hello.getKernelHello().getProtocolVersion()))
                        .build());
            } else {
                messages.add(KernelToPager.newBuilder().setMemoryObjectReclaimContinue(MemoryObjectReclaimContinue
                        .newBuilder().addAllObjects(parts.get(i)).setContinues(continues)).build());
            }
        }
        return messages;
    }
}
