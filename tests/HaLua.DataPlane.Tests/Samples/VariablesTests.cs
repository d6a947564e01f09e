using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

public class VariablesTests
{
    [Fact]
    public void StreamScopes_PerInstance_ProcScopeShared()
    {
        var a = new Variables();
        var b = new Variables();
        a.Set(VariableScope.Txn, "t", Sample.FromInt(1));
        a.Set(VariableScope.Proc, "vt_shared", Sample.FromInt(2));
        Assert.True(a.TryGet(VariableScope.Txn, "t", out var t) && t.Int == 1);
        Assert.False(b.TryGet(VariableScope.Txn, "t", out _));
        Assert.True(b.TryGet(VariableScope.Proc, "vt_shared", out var p) && p.Int == 2);
        b.Unset(VariableScope.Proc, "vt_shared");
        Assert.False(a.TryGet(VariableScope.Proc, "vt_shared", out _));
    }

    [Fact]
    public void ProcessOnly_HasNoStreamScopes()
    {
        // Contexts without a stream (tasks, init) share this instance: a txn variable set there
        // must not become visible to every other such context.
        Variables.ProcessOnly.Set(VariableScope.Txn, "vt_leak", Sample.FromInt(1));
        Assert.False(Variables.ProcessOnly.TryGet(VariableScope.Txn, "vt_leak", out _));
        Variables.ProcessOnly.Set(VariableScope.Proc, "vt_proc", Sample.FromInt(3));
        Assert.True(new Variables().TryGet(VariableScope.Proc, "vt_proc", out var v) && v.Int == 3);
        Variables.ProcessOnly.Unset(VariableScope.Proc, "vt_proc");
    }
}
