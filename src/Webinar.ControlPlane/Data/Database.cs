using Microsoft.Extensions.Options;
using Npgsql;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Data;

/// <summary>Builds the connection string from <see cref="DatabaseOptions"/> (a full ConnectionStrings:Webinar wins).</summary>
internal static class ConnectionStrings
{
    public static string For(DatabaseOptions o)
    {
        if (!string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            return o.ConnectionString;
        }

        var b = new NpgsqlConnectionStringBuilder
        {
            Host = o.Host,
            Port = o.Port,
            Database = o.Database,
            Username = o.Username,
            MaxPoolSize = o.MaxPoolSize,
        };
        if (!string.IsNullOrEmpty(o.Password))
        {
            b.Password = o.Password;
        }

        return b.ConnectionString;
    }

    public static NpgsqlDataSource CreateDataSource(IOptions<DatabaseOptions> options) =>
        new NpgsqlDataSourceBuilder(For(options.Value)).Build();
}
