//! Nearest neighbours.

use kiln_estimators::neighbors::*;
use ndarray::array;

#[test]
fn smoke() {
    let x = array![[0.0f64, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 3.0]];
    let nn = NearestNeighbors::params(2).fit(&x).unwrap();
    let (d, i) = nn.kneighbors(&x).unwrap();
    println!("{d} {i}");
}
