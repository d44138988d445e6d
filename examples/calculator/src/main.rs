mod idl {
    include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
}
use idl::calculator::{Calculator, CalculatorClient, CalculatorService};

struct Handler;

impl Calculator for Handler {
    async fn add(&self, a: i64, b: i64) -> Result<i64, mosaic_runtime::Error> {
        Ok(a + b)
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let sum = run().await?;
    println!("2 + 3 = {sum}");
    Ok(())
}

/// Serves the calculator on a port the system picks, then calls it.
async fn run() -> std::io::Result<i64> {
    let server = mosaic_runtime::Server::builder()
        .service(CalculatorService::new(Handler))
        .bind("127.0.0.1:0")
        .await?;
    let addr = server.local_addr().to_string();
    tokio::spawn(server.serve());

    let client = CalculatorClient::new(mosaic_runtime::Client::builder(addr).build());
    let sum = client.add(2, 3).await.map_err(std::io::Error::other)?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_readme_example_adds_over_a_real_socket() {
        assert_eq!(super::run().await.unwrap(), 5);
    }
}
