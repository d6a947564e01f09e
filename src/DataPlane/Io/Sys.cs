using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HaLua.DataPlane.Io;

/// <summary>The Linux system calls of the event loop (libc), and errno to <see cref="SocketError"/>.</summary>
internal static unsafe partial class Sys
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int EINTR = 4;
    public const int EAGAIN = 11;

    /// <summary>struct epoll_event as x86-64 lays it out (packed: 12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(SafeHandle fd, byte* buf, nint len, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(SafeHandle fd, byte* buf, nint len, int flags);

    [LibraryImport("libc", EntryPoint = "sched_yield")]
    public static partial int SchedYield();

    /// <summary>The CPU the calling thread runs on (glibc reads it from rseq or the vDSO: no system call).</summary>
    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    public static partial int SchedGetCpu();

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int tid, nint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int tid, nint size, ulong* mask);

    /// <summary>Binds the calling thread to the CPUs of <paramref name="mask"/> (CPU n is bit n, the first 64).</summary>
    public static bool SetThreadAffinity(ulong mask) => SchedSetAffinity(0, sizeof(ulong), &mask) == 0;

    /// <summary>The CPUs the calling thread may run on (CPU n is bit n, the first 64).</summary>
    public static ulong ThreadAffinity()
    {
        ulong mask = 0;
        return SchedGetAffinity(0, sizeof(ulong), &mask) == 0 ? mask : 0;
    }

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nint count);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(SafeHandle fd, int level, int name, int* value, int* length);

    /// <summary>The pending error of a socket (SO_ERROR, which also clears it): an errno, 0 for none.</summary>
    public static int PendingError(SafeHandle fd)
    {
        int value = 0, length = sizeof(int);
        return GetSockOpt(fd, 1, 4, &value, &length) == 0 ? value : Marshal.GetLastPInvokeError();
    }

    /// <summary>Whether this machine runs the own event loop: Linux on x86-64 (the packed epoll_event layout).</summary>
    public static bool EpollSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public static SocketError ToSocketError(int errno) => errno switch
    {
        104 => SocketError.ConnectionReset,
        32 => SocketError.Shutdown,
        111 => SocketError.ConnectionRefused,
        110 => SocketError.TimedOut,
        107 => SocketError.NotConnected,
        113 => SocketError.HostUnreachable,
        101 => SocketError.NetworkUnreachable,
        103 => SocketError.ConnectionAborted,
        9 => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };
}
