package dev.hangar.cli;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Catches SIGTERM and SIGINT so that a server can shut down in order and exit 0, where the JVM's
 * own handling would exit 143 (or 130), and {@code optimize} can stop its run at the next step.
 * Uses {@code sun.misc.Signal} (module jdk.unsupported) reflectively; where it is missing, the
 * JVM's default handling (and shutdown hooks) remain.
 */
final class Signals {
  private static final System.Logger LOG = System.getLogger(Signals.class.getName());

  private Signals() {}

  /** Runs {@code action} (once per signal) on SIGTERM and SIGINT instead of ending the JVM. */
  static void onTermination(Runnable action) {
    handleTermination(action);
  }

  /**
   * Until the returned handling is closed, the first SIGTERM or SIGINT sets {@code stopping}, says
   * {@code message} on {@code err} and interrupts {@code worker}, which stops at its next step; a
   * second exits the JVM at once with {@code secondSignalStatus}.
   */
  static Handling interruptOnTermination(
      Thread worker,
      AtomicBoolean stopping,
      PrintWriter err,
      String message,
      int secondSignalStatus) {
    return handleTermination(
        () -> {
          if (stopping.getAndSet(true)) {
            System.exit(secondSignalStatus);
          }
          err.println(message);
          err.flush();
          worker.interrupt();
        });
  }

  /** Handlers put in place, and a way to put back the ones before. */
  interface Handling extends AutoCloseable {
    /** Puts back the handlers in place before. */
    @Override
    void close();
  }

  /**
   * Like {@link #onTermination}, until the returned handling is closed: a command that catches
   * signals only while it runs leaves the JVM's own handling to whatever runs after it (a test, in
   * process).
   */
  static Handling handleTermination(Runnable action) {
    Method handle;
    Object proxy;
    Class<?> signal;
    try {
      signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      proxy =
          Proxy.newProxyInstance(
              Signals.class.getClassLoader(), new Class<?>[] {handler}, new Forwarder(action));
      handle = signal.getMethod("handle", signal, handler);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "cannot catch termination signals ({0}); shutdown hooks handle them",
          e.toString());
      return () -> {};
    }
    Map<Object, Object> before = new LinkedHashMap<>();
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Object named = signal.getConstructor(String.class).newInstance(name);
        before.put(named, handle.invoke(null, named, proxy));
      } catch (ReflectiveOperationException | RuntimeException e) {
        // SIGINT is ignored in a background job of a shell without job control: nothing to catch
        LOG.log(System.Logger.Level.DEBUG, "cannot catch SIG{0}: {1}", name, e.toString());
      }
    }
    return () ->
        before.forEach(
            (named, previous) -> {
              try {
                handle.invoke(null, named, previous);
              } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot put back a signal handler: {0}", e);
              }
            });
  }

  private record Forwarder(Runnable action) implements InvocationHandler {
    @Override
    public Object invoke(Object proxy, Method method, Object[] arguments) {
      if (method.getName().equals("handle")) {
        action.run();
        return null;
      }
      return switch (method.getName()) {
        case "hashCode" -> System.identityHashCode(proxy);
        case "equals" -> proxy == arguments[0];
        default -> "termination signal handler";
      };
    }
  }
}
