package io.machxp.kernel.net;

import static io.machxp.kernel.net.Answers.fail;
import static io.machxp.kernel.net.Answers.replying;
import static io.machxp.kernel.net.Answers.respond;

import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.sched.Priority;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.task.*;

/**
 * task_create and thread_create as the MachTask service answers them, and the ends of what they
 * made that nobody will hear of.
 *
 * <p>A create runs on the core thread. Its caller may give up on it (deadline, cancel,
 * disconnect): before the core made it, it is undone at once, unanswered; after, the handle or
 * thread is withdrawn and ended as a TaskWatch's end does ({@link GivenUpCreates}). A caller that
 * never saw the answer names the create by its create_token ({@link CreateTokens}): a retry with
 * the token answers what it made (one while the first is still MAKING waits for it; a task or
 * thread is made in one core step, a vm_map may wait: {@link VmMaps}), and abandoned_create_token
 * ends it and refuses the token from then on. Tasks and threads whose handles were withdrawn end
 * once their shared-memory revokes have settled ({@link #terminateRevoked}, {@link #endThread}),
 * unless the kernel is closing ({@link ServedKernel#executeUnlessClosing}).
 */
final class TaskCreates {
    private final ServedKernel kernel;
    private final TaskHandles handles;
    private final SharedMemoryCalls shared;
    private final CreateTokens tokens;

    TaskCreates(ServedKernel kernel, TaskHandles handles, SharedMemoryCalls shared) {
        this.kernel = kernel;
        this.handles = handles;
        this.shared = shared;
        this.tokens = handles.createTokens();
    }

    /**
     * The reply carries a new handle for the task, never the core's id. With a create_token
     * ({@link CreateTokens}) a retry answers the task the token made, and an abandoned token makes nothing.
     */
    void taskCreate(TaskCreateRequest request, StreamObserver<TaskCreateReply> out) {
        KernelCore core = kernel.core(); // this session's: a later one's handles are its own
        Object client = CallerConnection.current(); // the connection and its peer: their tasks share parts of the kernel's port names
        Object peer = CreateTokens.peerOf(client);
        GivenUpCreates call = GivenUpCreates.watch(out); // a task its caller never hears of is not kept (rv58 HIGH-2)
        kernel.execute(() -> createTask(core, client, peer, request, call, out));
    }

    /** Core thread: task_create, or its token's answer (a retry while the first is made waits for it). */
    private void createTask(KernelCore core, Object client, Object peer, TaskCreateRequest request, GivenUpCreates call,
            StreamObserver<TaskCreateReply> out) {
        long token = request.getCreateToken();
        if (token != 0) {
            if (tokens.joined(peer, CreateTokens.Kind.TASK, 0, token,
                    () -> kernel.executeUnlessClosing(() -> createTask(core, client, peer, request, call, out)))) {
                return;
            }
            if (answeredByToken(peer, token, out)) {
                return;
            }
            tokens.begin(peer, CreateTokens.Kind.TASK, 0, token, null);
        }
        Runnable forget = () -> tokens.forget(peer, CreateTokens.Kind.TASK, 0, token);
        core.taskCreate(request.getName(), client, tokened(token, forget, out, task -> {
            long handle = handles.issue(core, task.id); // issued before the undo can run (rv59 MED-1b)
            boolean kept = token == 0 || tokens.made(peer, CreateTokens.Kind.TASK, 0, token, handle, null);
            // the undo runs on the cancelling thread: the handle is withdrawn before the cancel returns
            // (GivenUpCreateTest); CreateTokens' lock orders it, handles.revoke ends the task once
            if (!kept || !call.made(() -> withdraw(core, task.id, handle, peer, token))) {
                if (kept) {
                    forget.run();
                }
                handles.revoke(handle);
                core.taskTerminate(task.id, kept ? CREATE_GIVEN_UP : CREATE_ABANDONED, Reply.ignore());
                if (!kept) {
                    fail(out, abandonedToken("task_create", token));
                }
                return;
            }
            respond(out, TaskCreateReply.newBuilder().setTask(handle).build());
        }));
    }

    /**
     * The reply of a create with {@code token} (0: none): {@code onComplete} with what it made;
     * a failure forgets the token (a retry makes anew; joined retries run) and fails the call.
     */
    static <V> Reply<V> tokened(long token, Runnable forget, StreamObserver<?> out,
            java.util.function.Consumer<V> onComplete) {
        return new Reply<>() {
            @Override
            public void complete(V value) {
                onComplete.accept(value);
            }

            @Override
            public void fail(KernelError error) {
                if (token != 0) {
                    forget.run();
                }
                Answers.fail(out, error);
            }
        };
    }

    /**
     * Core thread: a TaskCreate whose {@code token} this kernel remembers for {@code peer} is
     * answered here, making nothing: the handle the token got (ESRCH if its task has ended), or
     * EINTR if the token was abandoned. False if the token is new.
     */
    private boolean answeredByToken(Object peer, long token, StreamObserver<TaskCreateReply> out) {
        CreateTokens.Made made = tokens.answerRetry(peer, CreateTokens.Kind.TASK, 0, token);
        if (made == null) {
            return false;
        }
        if (made.abandoned()) {
            fail(out, abandonedToken("task_create", token));
        } else if (handles.ref(made.made()) != null) {
            respond(out, TaskCreateReply.newBuilder().setTask(made.made()).build());
        } else {
            fail(out, handles.notFound(kernel.name(), made.made()));
        }
        return true;
    }

    static KernelError abandonedToken(String call, long token) {
        return KernelError.of(Errno.EINTR, "this %s's create_token %s was abandoned (abandoned_create_token): nothing "
                + "is made for it; create with a new token", call, Long.toUnsignedString(token));
    }

    /** A task whose creation its caller gave up on after its handle was issued: as a TaskWatch's end does. */
    private void withdraw(KernelCore core, long taskId, long handle, Object peer, long token) {
        if (!tokens.releasedByGivenUp(peer, CreateTokens.Kind.TASK, 0, token)) {
            return; // a retry with the token was answered this task: its caller holds it now
        }
        if (handles.revoke(handle) == null) {
            return; // terminated meanwhile
        }
        terminateRevoked(core, taskId, CREATE_GIVEN_UP);
    }

    /**
     * TaskTerminate with abandoned_create_token: the caller gave up on the TaskCreate with that
     * token without its answer; the task it made, if any, ends (after its handle is withdrawn), and
     * the token makes nothing from now on. OK either way.
     */
    void abandonTaskCreate(long token, StreamObserver<TaskTerminateReply> out) {
        Object peer = CreateTokens.peerOf(CallerConnection.current());
        kernel.execute(() -> {
            CreateTokens.Made made = tokens.abandon(peer, CreateTokens.Kind.TASK, 0, token);
            long handle = made == null ? 0 : made.made();
            TaskHandles.Ref ref = handle == 0 ? null : handles.ref(handle);
            if (ref != null && handles.revoke(handle, CREATE_ABANDONED) != null) {
                terminateRevoked(ref.core() != null ? ref.core() : kernel.core(), ref.id(), CREATE_ABANDONED);
            }
            respond(out, TaskTerminateReply.getDefaultInstance());
        });
    }

    /** Why a task is ended whose creator abandoned its create_token. */
    private static final String CREATE_ABANDONED = "its task_create's caller abandoned it (abandoned_create_token)";

    /** Why a task is ended whose task_create's caller gave up on it. */
    private static final String CREATE_GIVEN_UP = "its task_create's caller gave up before the reply";

    /** Ends task {@code taskId}, whose handle was just revoked, once the revoke has settled (as a TaskWatch's end does). */
    void terminateRevoked(KernelCore core, long taskId, String why) {
        shared.afterRevoke(core, taskId, 0, () -> kernel.executeUnlessClosing(() -> core.taskTerminate(taskId, why, Reply.ignore())));
    }

    /** thread_create in the task {@code ref} names (its handle already translated). */
    void threadCreate(TaskHandles.Ref ref, ThreadCreateRequest request, StreamObserver<ThreadCreateReply> out) {
        Object peer = CreateTokens.peerOf(CallerConnection.current());
        GivenUpCreates call = GivenUpCreates.watch(out); // a thread its caller never hears of is not kept
        kernel.execute(() -> createThread(ref.core(), ref.id(), peer, request, call, out));
    }

    /** Core thread: thread_create, or its token's answer (a retry while the first is made waits for it). */
    private void createThread(KernelCore core, long task, Object peer, ThreadCreateRequest request, GivenUpCreates call,
            StreamObserver<ThreadCreateReply> out) {
        int priority = request.getPriority() == 0 ? Priority.DEFAULT : request.getPriority();
        long handle = request.getTask();
        long token = request.getCreateToken();
        CreateTokens.Kind kind = CreateTokens.Kind.THREAD;
        if (token != 0) {
            if (tokens.joined(peer, kind, handle, token,
                    () -> kernel.executeUnlessClosing(() -> createThread(core, task, peer, request, call, out)))) {
                return;
            }
            CreateTokens.Made made = tokens.answerRetry(peer, kind, handle, token);
            if (made != null) { // a retry: answered with what the token made, nothing new
                if (made.abandoned()) {
                    fail(out, abandonedToken("thread_create", token));
                } else if (liveThread(core, task, made)) {
                    respond(out, threadReply(core, task, (int) made.made()));
                } else {
                    fail(out, KernelError.of(Errno.ESRCH, "the thread thread_create made for create_token %s (TID %d) "
                            + "has ended", Long.toUnsignedString(token), made.made()));
                }
                return;
            }
            tokens.begin(peer, kind, handle, token, null);
        }
        Runnable forget = () -> tokens.forget(peer, kind, handle, token);
        core.threadCreate(task, priority, tokened(token, forget, out, thread -> {
            // the thread itself is remembered: its TID may name a later thread after a full cycle (rv60 INFO-1)
            boolean kept = token == 0 || tokens.made(peer, kind, handle, token, thread.tid, thread);
            if (!kept || !call.made(() -> kernel.executeUnlessClosing(() -> {
                // unless a retry was answered it, or an abandon ended it first: ended once (rv60 INFO-2)
                if (tokens.releasedByGivenUp(peer, kind, handle, token)) {
                    endThread(core, task, thread.tid);
                }
            }))) {
                if (kept) {
                    forget.run();
                }
                core.threadTerminate(task, thread.tid, Reply.ignore());
                if (!kept) {
                    fail(out, abandonedToken("thread_create", token));
                }
                return;
            }
            respond(out, threadReply(core, task, thread.tid));
        }));
    }

    private static ThreadCreateReply threadReply(KernelCore core, long task, int tid) {
        return ThreadCreateReply.newBuilder().setTid(tid).setShmSlot(SharedMemoryCalls.threadSlot(core, task, tid))
                .setUndoesAbandonedLocks(true).build();
    }

    /**
     * The thread a token made is still in its task: the same thread, not a later one its TID was
     * given to after a full cycle of numbers (review rv60 INFO-1: only the TID was checked).
     */
    private static boolean liveThread(KernelCore core, long task, CreateTokens.Made made) {
        return madeThreadLives(core.task(task), made);
    }

    /** {@link #liveThread} in task {@code t} (null: ended). */
    static boolean madeThreadLives(MachTask t, CreateTokens.Made made) {
        return t != null && made.what() != null && t.thread((int) made.made()) == made.what();
    }

    void endThread(KernelCore core, long task, int tid) {
        shared.afterRevoke(core, task, tid, () -> kernel.executeUnlessClosing(() -> core.threadTerminate(task, tid, Reply.ignore())));
    }

    /**
     * ThreadTerminate with abandoned_create_token: the thread the ThreadCreate with that token
     * made in the task, if any, ends; the token makes nothing from now on. OK either way.
     */
    void abandonThreadCreate(KernelCore core, long task, long handle, long token,
            StreamObserver<ThreadTerminateReply> out) {
        Object peer = CreateTokens.peerOf(CallerConnection.current());
        kernel.execute(() -> {
            CreateTokens.Made made = tokens.abandon(peer, CreateTokens.Kind.THREAD, handle, token);
            if (made != null && liveThread(core, task, made)) {
                endThread(core, task, (int) made.made());
            }
            respond(out, ThreadTerminateReply.getDefaultInstance());
        });
    }
}
