package io.machxp.kernel.net;

import static io.machxp.kernel.net.Answers.fail;
import static io.machxp.kernel.net.Answers.respond;

import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;

/**
 * vm_map as the MachTask service answers it, and the undoing of mappings nobody will hear of
 * (review rv59 LOW-1: a VmMap its caller gave up on kept its mapping, counted to the task's 4,096,
 * the object and the peer's share: 8 of 10 given-up VmMaps behind a slow link left one each).
 *
 * <pre>
 *   arrives    --caller already gone--> nothing is mapped, nothing answered
 *   arrives    --token made / abandoned--> the token's mapping (or ESRCH) / EINTR; nothing mapped
 *   arrives    --token MAKING----------> waits for that vm_map to be settled, then as above (or maps anew if it failed)
 *   WAITING (for memory_object_ready; holds its place: MapUnderWay)
 *              --caller gives up--------> fails EINTR, its place given back (KernelCore.vmMapWithdraw)
 *              --token abandoned--------> the same
 *   MADE       --caller gone already / gives up before the answer closes--> undone (KernelCore.vmUnmap)
 *              --answered---------------> the caller's; its token remembers it
 *   MADE, answered, lost on its way (closed OK, the kernel sees no cancel)
 *              --VmMap with abandoned_create_token--> undone; the token refused from then on
 * </pre>
 *
 * The cancel handler runs on the transport's thread; everything it stops or undoes is handed to
 * the core thread, where the vm_map itself runs ({@link GivenUpCreates}, {@link CreateTokens}).
 */
final class VmMaps {
    private final ServedKernel kernel;
    private final CreateTokens tokens;

    VmMaps(ServedKernel kernel, CreateTokens tokens) {
        this.kernel = kernel;
        this.tokens = tokens;
    }

    /** VmMap in the task {@code ref} names (its handle already translated). */
    void vmMap(TaskHandles.Ref ref, VmMapRequest request, StreamObserver<VmMapReply> out) {
        Object peer = CreateTokens.peerOf(CallerConnection.current());
        if (request.getAbandonedCreateToken() != 0) {
            abandon(ref, request.getTask(), request.getAbandonedCreateToken(), peer, out);
            return;
        }
        GivenUpCreates call = GivenUpCreates.watch(out); // a mapping its caller never hears of is not kept
        kernel.execute(() -> map(ref.core(), ref.id(), peer, request, call, out));
    }

    /** Core thread: vm_map, or its token's answer (a retry while the first waits joins it). */
    private void map(KernelCore core, long task, Object peer, VmMapRequest request, GivenUpCreates call,
            StreamObserver<VmMapReply> out) {
        long handle = request.getTask();
        long token = request.getCreateToken();
        CreateTokens.Kind kind = CreateTokens.Kind.MAPPING;
        if (token != 0) {
            if (tokens.joined(peer, kind, handle, token,
                    () -> kernel.executeUnlessClosing(() -> map(core, task, peer, request, call, out)))) {
                return;
            }
            CreateTokens.Made made = tokens.answerRetry(peer, kind, handle, token);
            if (made != null) {
                answerByToken(core, task, peer, handle, token, made, out);
                return;
            }
        }
        Runnable forget = () -> tokens.forget(peer, kind, handle, token);
        Reply<VmMapping> reply = TaskCreates.tokened(token, forget, out,
                (VmMapping m) -> mapped(core, task, peer, handle, token, m, call, out));
        // the caller gives up while the vm_map waits for its object: it stops, giving its place back
        if (!call.waiting(() -> kernel.executeUnlessClosing(() -> core.vmMapWithdraw(task, reply, GIVEN_UP)))) {
            return; // gone before anything was mapped: nothing to answer
        }
        if (token != 0) {
            tokens.begin(peer, kind, handle, token, () -> core.vmMapWithdraw(task, reply,
                    TaskCreates.abandonedToken("vm_map", token)));
        }
        core.vmMap(task, request.getObject(), reply);
    }

    /** Core thread: mapping {@code m} was made; answered, or undone if nobody will hear of it. */
    private void mapped(KernelCore core, long task, Object peer, long handle, long token, VmMapping m,
            GivenUpCreates call, StreamObserver<VmMapReply> out) {
        CreateTokens.Kind kind = CreateTokens.Kind.MAPPING;
        if (token != 0 && !tokens.made(peer, kind, handle, token, 0, m)) { // abandoned as it was made
            core.vmUnmap(task, m);
            fail(out, TaskCreates.abandonedToken("vm_map", token));
            return;
        }
        boolean heard = call.made(() -> kernel.executeUnlessClosing(() -> {
            if (tokens.releasedByGivenUp(peer, kind, handle, token)) { // unless a retry was answered it meanwhile
                core.vmUnmap(task, m);
            }
        }));
        if (!heard) {
            tokens.forget(peer, kind, handle, token);
            core.vmUnmap(task, m);
            return;
        }
        respond(out, reply(m));
    }

    private static VmMapReply reply(VmMapping m) {
        return VmMapReply.newBuilder().setAddress(m.start()).setSize(m.size()).build();
    }

    /** A retry with a remembered token: what it made, EINTR if abandoned; nothing is mapped. */
    private void answerByToken(KernelCore core, long task, Object peer, long handle, long token,
            CreateTokens.Made made, StreamObserver<VmMapReply> out) {
        MachTask t = core.task(task);
        if (made.abandoned()) {
            fail(out, TaskCreates.abandonedToken("vm_map", token));
        } else if (made.what() instanceof VmMapping m && t != null && t.mappingAt(m.start()) == m) {
            respond(out, reply(m));
        } else {
            fail(out, KernelError.of(Errno.ESRCH, "the mapping vm_map made for create_token %s is gone with its task",
                    Long.toUnsignedString(token)));
        }
    }

    /**
     * VmMap with abandoned_create_token: the caller gave up on the VmMap of this task with that
     * token without an answer; the mapping it made, if any, is undone, one still waiting fails,
     * and the token maps nothing from then on. OK either way.
     */
    private void abandon(TaskHandles.Ref ref, long handle, long token, Object peer, StreamObserver<VmMapReply> out) {
        KernelCore core = ref.core();
        kernel.execute(() -> {
            CreateTokens.Made made = tokens.abandon(peer, CreateTokens.Kind.MAPPING, handle, token);
            if (made != null && made.what() instanceof VmMapping m) {
                core.vmUnmap(ref.id(), m);
            }
            respond(out, VmMapReply.getDefaultInstance());
        });
    }

    /** What a vm_map whose caller gave up while it waited is failed with (nobody hears it). */
    private static final KernelError GIVEN_UP = KernelError.of(Errno.EINTR,
            "the caller of this vm_map gave up while it waited for the pager's memory_object_ready: nothing was mapped");
}
