package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A Raft division that does not take client requests itself (not Ratis 3.1.3's or 3.3.0's): the leader's
 * appends go through the Raft server ({@link LeaderAppender}'s fallback), and the process says so
 * once at INFO, however many appenders take that path.
 */
class LeaderAppenderThroughServerTest {
    @Test
    void appendsGoThroughTheServerAndTheFallbackIsLoggedOnce() throws Exception {
        ConcurrentLinkedQueue<RaftClientRequest> toServer = new ConcurrentLinkedQueue<>();
        RaftServer server = serverWithPlainDivision(toServer);
        RaftGroupId group = RaftGroupId.randomId();
        RaftPeerId self = RaftPeerId.valueOf("r1");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(LeaderAppender.class);
        Level level = log.getLevel();
        log.setLevel(Level.INFO); // the tests' logging config keeps only warnings
        logged.start();
        log.addAppender(logged);
        try {
            for (int appender = 0; appender < 2; appender++) {
                LeaderAppender a = new LeaderAppender(server, group, self, 1);
                for (int i = 0; i < 2; i++) {
                    RaftClientReply reply = a.send(Message.valueOf("entry " + appender + "." + i)).get(10, TimeUnit.SECONDS);
                    assertThat(reply.isSuccess()).isTrue();
                }
            }
        } finally {
            log.detachAppender(logged);
            log.setLevel(level);
        }

        assertThat(toServer).as("requests the server took").hasSize(4)
                .allSatisfy(r -> assertThat(r.getRaftGroupId()).isEqualTo(group));
        List<String> info = logged.list.stream().filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(info).as("INFO lines of the appenders").hasSize(1);
        assertThat(info.get(0)).contains("r1").contains("through the Raft server");
    }

    /** A Raft server whose division is a bare {@link RaftServer.Division}; it answers each request at once. */
    private static RaftServer serverWithPlainDivision(ConcurrentLinkedQueue<RaftClientRequest> taken) {
        RaftServer.Division division = (RaftServer.Division) Proxy.newProxyInstance(
                LeaderAppenderThroughServerTest.class.getClassLoader(), new Class<?>[] {RaftServer.Division.class},
                (proxy, method, args) -> objectMethod(proxy, method.getName(), args));
        return (RaftServer) Proxy.newProxyInstance(LeaderAppenderThroughServerTest.class.getClassLoader(),
                new Class<?>[] {RaftServer.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getDivision" -> division;
                    case "submitClientRequestAsync" -> {
                        RaftClientRequest r = (RaftClientRequest) args[0];
                        taken.add(r);
                        yield CompletableFuture.completedFuture(
                                RaftClientReply.newBuilder().setRequest(r).setSuccess().build());
                    }
                    default -> objectMethod(proxy, method.getName(), args);
                });
    }

    private static Object objectMethod(Object proxy, String name, Object[] args) {
        return switch (name) {
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            case "toString" -> "a test's Raft server";
            default -> throw new UnsupportedOperationException(name);
        };
    }
}
