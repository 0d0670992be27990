//! Tests of `kiln_estimators::datasets`: the bundled datasets against their documented shapes
//! and values, the `.npy` / `.csv` loaders on files written here (and on the committed
//! scikit-learn fixtures), and the generators' statistics, seeding and parameter checks.
//!
//! References are the datasets' published descriptions (UCI, scikit-learn's user guide) and
//! statistics computed with plain loops here, never the code under test.

use std::path::{Path, PathBuf};

use kiln_estimators::datasets::{
    load_breast_cancer, load_csv, load_diabetes, load_digits, load_iris, load_npy, load_npy_as, load_wine, make_blobs,
    make_classification, make_regression, DatasetError, MakeBlobs, MakeClassification, MakeRegression,
};
use ndarray::{array, Array1, Array2, ArrayD, Ix0, Ix1, Ix2, IxDyn, ShapeBuilder};
use ndarray_npy::WriteNpyExt;

fn class_counts(y: &Array1<i64>, n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &c in y {
        counts[usize::try_from(c).expect("label >= 0")] += 1;
    }
    counts
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

/// Mean and population standard deviation of the values, with plain loops.
fn mean_std(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count() as f64;
    let mean = v.clone().sum::<f64>() / n;
    let var = v.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

// ---------------------------------------------------------------------------------------
// Bundled datasets.

#[test]
fn iris_has_150_samples_of_4_features_and_50_per_class() {
    let d = load_iris();
    assert_eq!(d.data.dim(), (150, 4));
    assert_eq!((d.n_samples(), d.n_features()), (150, 4));
    assert_eq!(d.data.row(0).to_vec(), [5.1, 3.5, 1.4, 0.2]);
    assert_eq!(d.target[0], 0);
    assert_eq!(d.data.row(149).to_vec(), [5.9, 3.0, 5.1, 1.8]);
    assert_eq!(d.target[149], 2);
    assert_eq!(class_counts(&d.target, 3), [50, 50, 50]);
    assert_eq!(d.feature_names, ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]);
    assert_eq!(d.target_names, ["setosa", "versicolor", "virginica"]);
}

#[test]
fn wine_breast_cancer_digits_and_diabetes_have_their_documented_shapes() {
    let w = load_wine();
    assert_eq!(w.data.dim(), (178, 13));
    assert_eq!(w.data.row(0).slice(ndarray::s![..4]).to_vec(), [14.23, 1.71, 2.43, 15.6]);
    assert_eq!(class_counts(&w.target, 3), [59, 71, 48]);
    assert_eq!((w.feature_names.len(), w.target_names.len()), (13, 3));

    let b = load_breast_cancer();
    assert_eq!(b.data.dim(), (569, 30));
    assert_eq!(b.data.row(0).slice(ndarray::s![..2]).to_vec(), [17.99, 10.38]);
    assert_eq!(class_counts(&b.target, 2), [212, 357]);
    assert_eq!(b.target_names, ["malignant", "benign"]);
    assert_eq!(b.feature_names[0], "mean radius");

    let g = load_digits();
    assert_eq!(g.data.dim(), (1797, 64));
    assert_eq!(g.feature_names.len(), 64);
    assert!(g.data.iter().all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
    let counts = class_counts(&g.target, 10);
    assert_eq!(counts.iter().sum::<usize>(), 1797);
    assert!(counts.iter().all(|&c| (170..=185).contains(&c)), "{counts:?}");

    let r = load_diabetes();
    assert_eq!(r.data.dim(), (442, 10));
    assert_eq!(r.target.len(), 442);
    assert!(r.target_names.is_empty());
    let (lo, hi) = r.target.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &t| (l.min(t), h.max(t)));
    assert_eq!((lo, hi), (25.0, 346.0));
    // scikit-learn ships the features mean-centred, each column with unit Euclidean norm.
    for col in r.data.columns() {
        let (mean, std) = mean_std(col.iter().copied());
        assert!(mean.abs() < 1e-10, "{mean}");
        assert!((std * (442f64).sqrt() - 1.0).abs() < 1e-6, "{std}");
    }
}

#[test]
fn into_f32_rounds_the_data_and_keeps_labels() {
    let d = load_iris();
    let f = d.clone().into_f32();
    assert_eq!(f.data, d.data.mapv(|v| v as f32));
    assert_eq!(f.target, d.target);
    let r = load_diabetes();
    let rf = r.clone().into_f32();
    assert_eq!(rf.target, r.target.mapv(|v| v as f32));
    assert_eq!(rf.feature_names, r.feature_names);
}

// ---------------------------------------------------------------------------------------
// .npy files.

#[test]
fn fixtures_load_and_agree_with_the_bundled_copy() {
    let x = load_npy::<f64>(fixture("input_iris_x.npy")).expect("iris input");
    assert_eq!(x, load_iris().data);
    let x32 = load_npy::<f32>(fixture("input_iris_x.npy")).expect("iris input as f32");
    assert_eq!(x32, x.mapv(|v| v as f32));
    let y = load_npy_as::<i64, Ix1>(fixture("input_iris_y.npy")).expect("labels");
    assert_eq!(y, load_iris().target);
    let inertia = load_npy_as::<f64, Ix0>(fixture("kmeans_init_iris.inertia_.npy")).expect("0-d").into_scalar();
    assert!(inertia > 0.0 && inertia.is_finite());
    let n_iter = load_npy_as::<i64, Ix0>(fixture("kmeans_init_iris.n_iter_.npy")).expect("0-d").into_scalar();
    assert!((1..=300).contains(&n_iter));
    let any = load_npy_as::<f64, IxDyn>(fixture("pca2_iris.components_.npy")).expect("dynamic rank");
    assert_eq!(any.shape(), [2, 4]);
}

#[test]
fn every_file_the_manifest_lists_loads_with_its_recorded_rank() {
    let manifest = std::fs::read_to_string(fixture("MANIFEST.json")).expect("MANIFEST.json");
    // Each entry reads `"file": "<name>", "shape": [<dims>]` (json.dumps with indent=1).
    let mut checked = 0;
    for entry in manifest.split("\"file\": \"").skip(1) {
        let name = &entry[..entry.find('"').expect("closing quote")];
        let shape = entry.split("\"shape\": [").nth(1).expect("shape after file");
        let dims = shape[..shape.find(']').expect("closing bracket")].split(',').filter(|d| !d.trim().is_empty());
        let dims: Vec<usize> = dims.map(|d| d.trim().parse().expect("dimension")).collect();
        let a = load_npy_as::<f64, IxDyn>(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.shape(), dims.as_slice(), "{name}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} files listed");
}

#[test]
fn npy_element_types_convert_to_the_requested_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, f: &dyn Fn(&mut std::fs::File)| {
        let p = dir.path().join(name);
        f(&mut std::fs::File::create(&p).expect("create"));
        p
    };
    let f32_file = write("a.npy", &|w| array![[1.5f32, -2.0], [0.25, 8.0]].write_npy(w).expect("write"));
    assert_eq!(load_npy::<f64>(&f32_file).expect("f32 as f64"), array![[1.5, -2.0], [0.25, 8.0]]);
    let i32_file = write("b.npy", &|w| array![3i32, -4, 5].write_npy(w).expect("write"));
    assert_eq!(load_npy_as::<i64, Ix1>(&i32_file).expect("i32 as i64"), array![3, -4, 5]);
    assert_eq!(load_npy_as::<f32, Ix1>(&i32_file).expect("i32 as f32"), array![3.0, -4.0, 5.0]);
    let u8_file = write("c.npy", &|w| array![[0u8, 255]].write_npy(w).expect("write"));
    assert_eq!(load_npy::<f32>(&u8_file).expect("u8 as f32"), array![[0.0, 255.0]]);
    let bool_file = write("d.npy", &|w| array![true, false].write_npy(w).expect("write"));
    assert_eq!(load_npy_as::<i64, Ix1>(&bool_file).expect("bool as i64"), array![1, 0]);
    // A Fortran-order array reads in logical order.
    let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]).expect("shape");
    let f_file = write("e.npy", &|w| fortran.write_npy(w).expect("write"));
    assert_eq!(load_npy::<f64>(&f_file).expect("fortran"), array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    // Integral floats are labels; a fraction is not.
    let floats = write("f.npy", &|w| array![0.0f64, 2.0, 2.5].write_npy(w).expect("write"));
    match load_npy_as::<i64, Ix1>(&floats) {
        Err(DatasetError::Unrepresentable { index: 2, dtype: "i64", value, .. }) => assert_eq!(value, "2.5"),
        other => panic!("expected Unrepresentable, got {other:?}"),
    }
    let big = write("g.npy", &|w| array![1u64, u64::MAX].write_npy(w).expect("write"));
    assert!(matches!(load_npy_as::<i64, Ix1>(&big), Err(DatasetError::Unrepresentable { index: 1, .. })));
    let scalar = write("h.npy", &|w| ArrayD::from_elem(IxDyn(&[]), 7.0f64).write_npy(w).expect("write"));
    assert_eq!(load_npy_as::<f64, Ix0>(&scalar).expect("0-d").into_scalar(), 7.0);
}

#[test]
fn npy_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.npy");
    let err = load_npy::<f64>(&missing).expect_err("missing file");
    assert!(matches!(err, DatasetError::Io { .. }));
    assert!(err.to_string().contains("missing.npy"), "{err}");

    let garbage = dir.path().join("garbage.npy");
    std::fs::write(&garbage, b"not an npy file at all").expect("write");
    let err = load_npy::<f64>(&garbage).expect_err("garbage");
    assert!(matches!(err, DatasetError::Npy { .. }), "{err:?}");

    let vector = dir.path().join("vector.npy");
    array![1.0f64, 2.0].write_npy(std::fs::File::create(&vector).expect("create")).expect("write");
    let err = load_npy::<f64>(&vector).expect_err("1-D as 2-D");
    assert!(matches!(err, DatasetError::Rank { expected: 2, found: 1, .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("{} holds a 1-dimensional array, expected 2 dimensions", vector.display()));
    assert!(load_npy_as::<f64, Ix2>(&vector).is_err());
}

/// The bytes of a `.npy` file of format `version` with header dictionary `dict` (padded as
/// numpy pads it) and `data` after it.
fn npy_bytes(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let len_bytes = if version == 1 { 2 } else { 4 };
    let mut header = format!("{dict}\n").into_bytes();
    while (8 + len_bytes + header.len()) % 64 != 0 {
        header.insert(header.len() - 1, b' ');
    }
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    out.extend(&(header.len() as u32).to_le_bytes()[..len_bytes]);
    out.extend(header);
    out.extend(data);
    out
}

/// The error of loading `bytes` (written to a file) as a 1-D f64 array.
fn npy_error(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hostile.npy");
    std::fs::write(&path, bytes).expect("write");
    let err = load_npy_as::<f64, IxDyn>(&path).expect_err("a hostile file is refused");
    assert!(matches!(err, DatasetError::Npy { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("hostile.npy") && !text.contains('\n'), "{text}");
    text
}

#[test]
fn npy_headers_claiming_more_than_the_file_holds_are_refused_before_allocating() {
    // These files used to abort the process: ndarray-npy allocated the 16 TB (and 32 TB) the
    // header claimed before reading a byte of data.
    let data = [0u8; 32];
    for (dict, what) in [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000000,), }", "1-D f32"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000000,), }", "1-D f64"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2000000, 2000000), }", "2-D f64"),
    ] {
        let bytes = npy_bytes(1, dict, &data);
        assert!(bytes.len() <= 160, "{what}: a small file");
        let text = npy_error(&bytes);
        assert!(text.contains("header claims") && text.contains("holds 32"), "{what}: {text}");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.npy");
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(load_npy::<f64>(&path), Err(DatasetError::Npy { .. })), "{what} as 2-D");
        assert!(matches!(load_npy::<f32>(&path), Err(DatasetError::Npy { .. })), "{what} as 2-D f32");
    }
    // Shapes whose byte count overflows are refused as such.
    let text =
        npy_error(&npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", &[]));
    assert!(text.contains("more bytes than can be addressed"), "{text}");
    let text = npy_error(&npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
        &[],
    ));
    assert!(text.contains("malformed header"), "{text}");
}

#[test]
fn npy_files_that_are_short_long_or_of_unknown_format_are_refused() {
    let good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    let data: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    for version in [1, 2, 3] {
        let path = dir.path().join(format!("v{version}.npy"));
        std::fs::write(&path, npy_bytes(version, good, &data)).expect("write");
        assert_eq!(load_npy_as::<f64, Ix1>(&path).expect("a well-formed file"), array![1.5, -2.0], "version {version}");
    }
    // Big-endian data is supported: read and byte-swapped.
    let big: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
    let path = dir.path().join("big_endian.npy");
    std::fs::write(&path, npy_bytes(1, &good.replace("<f8", ">f8"), &big)).expect("write");
    assert_eq!(load_npy_as::<f64, Ix1>(&path).expect("big-endian"), array![1.5, -2.0]);
    // Fortran order is supported: the data is column-major.
    let cols: Vec<u8> = [1.0f64, 3.0, 2.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.path().join("fortran.npy");
    std::fs::write(&path, npy_bytes(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", &cols))
        .expect("write");
    assert_eq!(load_npy::<f64>(&path).expect("fortran order"), array![[1.0, 2.0], [3.0, 4.0]]);

    let full = npy_bytes(1, good, &data);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (full[..full.len() - 1].to_vec(), "file holds 15"),
        ([full.as_slice(), &[0]].concat(), "file holds 17"),
        (full[..40].to_vec(), "ends inside its header"),
        (full[..7].to_vec(), "ends inside its header"),
        (b"\x93NUMPX\x01\x00".to_vec(), "bad magic"),
        (npy_bytes(4, good, &data), "version 4.0"),
        ([&full[..7], &[1], &full[8..]].concat(), "version 1.1"),
        // A version 2 header length of 4 GiB in a 12-byte file.
        (b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec(), "ends inside its header"),
        (npy_bytes(1, &good.replace("<f8", "<c16"), &[0; 32]), "unsupported dtype `<c16`"),
        (npy_bytes(1, &good.replace("<f8", "<f2"), &[0; 4]), "unsupported dtype `<f2`"),
        (npy_bytes(1, &good.replace("'<f8'", "[('a', '<f8')]"), &data), "unsupported dtype `structured"),
        (npy_bytes(1, &good.replace("<f8", "|f8"), &data), "byte order"),
        (npy_bytes(1, &good.replace("<f8", "=f8"), &data), "byte order"),
        (npy_bytes(1, &good.replace("<f8", ">b1"), &[0; 2]), "byte order"),
        (npy_bytes(1, "{'descr': '<f8', 'shape': (2,), }", &data), "no `fortran_order` key"),
        (npy_bytes(1, &good.replace("}", "'extra': 1, }"), &data), "unexpected key `extra`"),
        (npy_bytes(1, &good.replace("(2,)", "(-2,)"), &data), "malformed header"),
        (npy_bytes(1, &good.replace("False", "None"), &data), "malformed header"),
        (npy_bytes(1, &good.replace("'<f8'", "'<f8"), &data), "malformed header"),
        (npy_bytes(1, &format!("{good} trailing"), &data), "malformed header"),
    ];
    for (bytes, needle) in cases {
        let text = npy_error(&bytes);
        assert!(text.contains(needle), "expected `{needle}`: {text}");
    }
}

// ---------------------------------------------------------------------------------------
// .csv files.

fn csv(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write csv");
    p
}

#[test]
fn csv_reads_headers_quotes_crlf_and_blank_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = csv(&dir, "a.csv", "a,b,c\r\n1, 2.5 ,\"-3\"\r\n\r\n4e2,-0.5,nan\n\n");
    let x = load_csv::<f64>(&p, true).expect("parse");
    assert_eq!(x.dim(), (2, 3));
    assert_eq!(x.row(0).to_vec(), [1.0, 2.5, -3.0]);
    assert_eq!((x[[1, 0]], x[[1, 1]]), (400.0, -0.5));
    assert!(x[[1, 2]].is_nan());
    let p = csv(&dir, "b.csv", "0.1,0.2\n0.3,0.4\n");
    assert_eq!(load_csv::<f32>(&p, false).expect("f32"), array![[0.1f32, 0.2], [0.3, 0.4]]);
}

#[test]
fn csv_errors_name_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = csv(&dir, "ragged.csv", "x,y\n1,2\n3,4\n5\n");
    match load_csv::<f64>(&p, true) {
        Err(DatasetError::RaggedRow { line: 4, expected: 2, found: 1, .. }) => {}
        other => panic!("expected RaggedRow at line 4, got {other:?}"),
    }
    let p = csv(&dir, "text.csv", "1,2\n3,abc\n");
    let err = load_csv::<f64>(&p, false).expect_err("non-numeric");
    assert!(matches!(err, DatasetError::NotANumber { line: 2, column: 2, ref field, .. } if field == "abc"), "{err:?}");
    assert_eq!(err.to_string(), format!("{}: line 2, column 2: `abc` is not a number", p.display()));
    let p = csv(&dir, "empty_field.csv", "1,,3\n");
    assert!(matches!(load_csv::<f64>(&p, false), Err(DatasetError::NotANumber { line: 1, column: 2, .. })));
    let p = csv(&dir, "header_only.csv", "a,b\n");
    assert!(matches!(load_csv::<f64>(&p, true), Err(DatasetError::Empty { .. })));
    let missing = dir.path().join("nope.csv");
    assert!(matches!(load_csv::<f64>(&missing, false), Err(DatasetError::Io { .. })));
}

// ---------------------------------------------------------------------------------------
// Generators.

#[test]
fn blobs_have_the_requested_centers_spreads_and_sizes() {
    let centers = array![[0.0, 0.0, 0.0], [10.0, -5.0, 2.0], [-8.0, 4.0, 20.0]];
    let stds = [0.5, 1.0, 2.0];
    let (x, y) =
        MakeBlobs::new(3001).center_array(centers.clone()).cluster_stds(&stds).seed(1).build::<f64>().expect("blobs");
    assert_eq!(x.dim(), (3001, 3));
    assert_eq!(class_counts(&y, 3), [1001, 1000, 1000]);
    for c in 0..3 {
        let rows: Vec<usize> = (0..3001).filter(|&i| y[i] == c as i64).collect();
        for j in 0..3 {
            let (mean, std) = mean_std(rows.iter().map(|&i| x[[i, j]]));
            // The sample mean's standard error is std / sqrt(1000); allow 5 of them.
            assert!((mean - centers[[c, j]]).abs() < 5.0 * stds[c] / 1000f64.sqrt(), "center {c} feature {j}: {mean}");
            assert!((std / stds[c] - 1.0).abs() < 0.1, "center {c} feature {j}: std {std}");
        }
    }
    // Shuffled: the labels are not grouped.
    assert!(y.windows(2).into_iter().filter(|w| w[0] != w[1]).count() > 100);
}

#[test]
fn random_blob_centers_lie_in_the_box_and_unshuffled_blobs_come_in_order() {
    let (x, y, c) = MakeBlobs::new(10)
        .centers(4)
        .n_features(5)
        .center_box(-1.0, 3.0)
        .shuffle(false)
        .seed(9)
        .build_with_centers::<f64>()
        .expect("blobs");
    assert_eq!(c.dim(), (4, 5));
    assert!(c.iter().all(|&v| (-1.0..3.0).contains(&v)));
    assert_eq!(y.to_vec(), [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]);
    assert_eq!(x.dim(), (10, 5));
    let (a, _) = make_blobs::<f64>(50, 3, 2, 1.0, 4).expect("a");
    let (b, _) = make_blobs::<f64>(50, 3, 2, 1.0, 4).expect("b");
    let (other, _) = make_blobs::<f64>(50, 3, 2, 1.0, 5).expect("c");
    assert_eq!(a, b, "a seed gives the same data");
    assert_ne!(a, other, "another seed gives other data");
    let (a32, _) = make_blobs::<f32>(50, 3, 2, 1.0, 4).expect("f32");
    assert_eq!(a32, a.mapv(|v| v as f32), "f32 data is the f64 data rounded");
}

#[test]
fn blob_parameters_are_checked() {
    let bad = |b: MakeBlobs, name: &str| match b.build::<f64>() {
        Err(DatasetError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected an invalid {name}, got {other:?}"),
    };
    bad(MakeBlobs::new(10).centers(0), "centers");
    bad(MakeBlobs::new(10).n_features(0), "n_features");
    bad(MakeBlobs::new(10).cluster_std(-1.0), "cluster_std");
    bad(MakeBlobs::new(10).cluster_std(f64::NAN), "cluster_std");
    bad(MakeBlobs::new(10).centers(3).cluster_stds(&[1.0, 2.0]), "cluster_std");
    bad(MakeBlobs::new(10).center_box(1.0, 1.0), "center_box");
    bad(MakeBlobs::new(10).center_array(array![[0.0, 1.0]]).n_features(3), "centers");
}

/// Least-squares residual of `target` on `cols` (normal equations, Gauss-Jordan, plain loops).
fn residual_norm(x: &Array2<f64>, cols: &[usize], target: usize) -> f64 {
    let k = cols.len();
    let mut m = vec![vec![0.0; k + 1]; k];
    for (a, &ca) in cols.iter().enumerate() {
        for (b, &cb) in cols.iter().enumerate() {
            m[a][b] = x.column(ca).dot(&x.column(cb));
        }
        m[a][k] = x.column(ca).dot(&x.column(target));
    }
    for p in 0..k {
        let piv = m[p][p];
        for v in m[p].iter_mut() {
            *v /= piv;
        }
        for r in 0..k {
            if r != p {
                let f = m[r][p];
                let row_p = m[p].clone();
                for (v, pv) in m[r].iter_mut().zip(row_p) {
                    *v -= f * pv;
                }
            }
        }
    }
    (0..x.nrows())
        .map(|i| {
            let fit: f64 = cols.iter().enumerate().map(|(a, &c)| m[a][k] * x[[i, c]]).sum();
            (x[[i, target]] - fit).powi(2)
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn classification_has_informative_clusters_redundant_combinations_and_noise() {
    let (n_inf, n_red, n_rep) = (3, 2, 1);
    let g = MakeClassification::new(2400)
        .n_features(9)
        .n_informative(n_inf)
        .n_redundant(n_red)
        .n_repeated(n_rep)
        .n_classes(3)
        .n_clusters_per_class(2)
        .flip_y(0.0)
        .class_sep(2.0)
        .shuffle(false)
        .seed(11);
    let (x, y) = g.build::<f64>().expect("classification");
    assert_eq!(x.dim(), (2400, 9));
    // Six clusters of 400, cluster c labelled c % 3.
    for c in 0..6 {
        let rows = c * 400..(c + 1) * 400;
        assert!(rows.clone().all(|i| y[i] == (c % 3) as i64), "cluster {c}");
        // Each cluster's informative means sit on a hypercube vertex: +-class_sep.
        for j in 0..n_inf {
            let (mean, _) = mean_std(rows.clone().map(|i| x[[i, j]]));
            assert!((mean.abs() - 2.0).abs() < 0.25, "cluster {c} feature {j}: mean {mean}");
        }
    }
    assert_eq!(class_counts(&y, 3), [800, 800, 800]);
    let informative: Vec<usize> = (0..n_inf).collect();
    for r in n_inf..n_inf + n_red {
        assert!(residual_norm(&x, &informative, r) < 1e-9, "redundant feature {r} is a combination");
    }
    let repeated = n_inf + n_red;
    assert!((0..repeated).any(|j| x.column(j) == x.column(repeated)), "repeated feature copies one");
    for j in repeated + 1..9 {
        let (mean, std) = mean_std(x.column(j).iter().copied());
        assert!(mean.abs() < 0.1 && (std - 1.0).abs() < 0.06, "useless feature {j}: {mean} {std}");
        assert!(residual_norm(&x, &informative, j) > 10.0, "useless feature {j} is independent");
    }
}

#[test]
fn classification_weights_flips_shift_scale_and_seeds() {
    let (_, y) = MakeClassification::new(1000)
        .weights(&[0.1, 0.3])
        .n_informative(3)
        .n_classes(3)
        .flip_y(0.0)
        .build::<f64>()
        .expect("w");
    assert_eq!(class_counts(&y, 3), [100, 300, 600]);
    // flip_y redraws that fraction uniformly: 2/3 of the redrawn labels change class.
    let base = MakeClassification::new(3000).n_informative(3).n_classes(3).shuffle(false).seed(2);
    let (_, kept) = base.clone().flip_y(0.0).build::<f64>().expect("no flips");
    let (_, flipped) = base.clone().flip_y(0.3).build::<f64>().expect("flips");
    let changed = kept.iter().zip(&flipped).filter(|(a, b)| a != b).count() as f64 / 3000.0;
    assert!((changed - 0.2).abs() < 0.03, "{changed}");
    let (plain, _) = base.clone().flip_y(0.0).build::<f64>().expect("plain");
    let (moved, _) = base.clone().flip_y(0.0).shift(3.0).scale(2.0).build::<f64>().expect("moved");
    assert!(moved.iter().zip(&plain).all(|(m, p)| (m - (p + 3.0) * 2.0).abs() < 1e-12));
    let (a, ya) = make_classification::<f64>(100, 6, 3, 1, 2, 5).expect("a");
    let (b, yb) = make_classification::<f64>(100, 6, 3, 1, 2, 5).expect("b");
    assert_eq!((&a, &ya), (&b, &yb));
    let (a32, _) = make_classification::<f32>(100, 6, 3, 1, 2, 5).expect("f32");
    assert_eq!(a32, a.mapv(|v| v as f32));
    // Shuffled: samples of different classes interleave.
    assert!(ya.windows(2).into_iter().filter(|w| w[0] != w[1]).count() > 20);
}

#[test]
fn classification_parameters_are_checked() {
    let bad = |g: MakeClassification, name: &str| match g.build::<f64>() {
        Err(e @ DatasetError::InvalidParameter { .. }) => {
            assert!(matches!(&e, DatasetError::InvalidParameter { name: n, .. } if *n == name), "{e}");
            e.to_string()
        }
        other => panic!("expected an invalid {name}, got {other:?}"),
    };
    let msg = bad(MakeClassification::new(10).n_informative(1).n_classes(3), "n_classes");
    assert!(msg.contains("2**n_informative(1)=2"), "{msg}");
    bad(MakeClassification::new(10).n_features(4).n_informative(3).n_redundant(2), "n_features");
    bad(MakeClassification::new(10).n_informative(0), "n_informative");
    bad(MakeClassification::new(10).flip_y(1.5), "flip_y");
    bad(MakeClassification::new(10).weights(&[0.5, 0.2, 0.3, 0.0]), "weights");
    bad(MakeClassification::new(10).weights(&[1.5]), "weights");
    bad(MakeClassification::new(10).class_sep(f64::INFINITY), "class_sep");
}

#[test]
fn regression_targets_are_the_linear_model_plus_noise() {
    let (x, y, coef) =
        MakeRegression::new(500).n_features(8).n_informative(3).bias(4.0).seed(3).build::<f64>().expect("r");
    assert_eq!((x.dim(), y.len(), coef.len()), ((500, 8), 500, 8));
    assert_eq!(coef.iter().filter(|&&c| c != 0.0).count(), 3);
    assert!(coef.iter().all(|&c| (0.0..100.0).contains(&c)));
    for i in 0..500 {
        let fit: f64 = (0..8).map(|j| x[[i, j]] * coef[j]).sum::<f64>() + 4.0;
        assert!((y[i] - fit).abs() < 1e-9 * fit.abs().max(1.0), "row {i}");
    }
    for j in 0..8 {
        let (mean, std) = mean_std(x.column(j).iter().copied());
        assert!(mean.abs() < 0.2 && (std - 1.0).abs() < 0.1, "feature {j}: {mean} {std}");
    }
    let (x, y, coef) = make_regression::<f64>(4000, 5, 5, 2.5, 7).expect("noisy");
    let residuals = (0..4000).map(|i| y[i] - (0..5).map(|j| x[[i, j]] * coef[j]).sum::<f64>());
    let (mean, std) = mean_std(residuals);
    assert!(mean.abs() < 0.15 && (std / 2.5 - 1.0).abs() < 0.05, "noise {mean} {std}");
    // n_informative above n_features means all of them, as in scikit-learn.
    let (_, _, all) = make_regression::<f32>(10, 4, 9, 0.0, 1).expect("clamped");
    assert!(all.iter().all(|&c| c != 0.0));
    let (x32, y32, _) = make_regression::<f32>(4000, 5, 5, 2.5, 7).expect("f32");
    assert_eq!((x32, y32), (x.mapv(|v| v as f32), y.mapv(|v| v as f32)));
    let bad = MakeRegression::new(10).noise(-1.0).build::<f64>();
    assert!(matches!(bad, Err(DatasetError::InvalidParameter { name: "noise", .. })));
    let bad = MakeRegression::new(10).n_features(0).build::<f64>();
    assert!(matches!(bad, Err(DatasetError::InvalidParameter { name: "n_features", .. })));
}

// ---------------------------------------------------------------------------------------
// make_tuning_data (issue 18's workload).

#[test]
fn make_tuning_data_has_the_workloads_moments() {
    use kiln_estimators::datasets::make_tuning_data;
    let n = 200_000;
    let (x, t) = make_tuning_data::<f64>(n, 7);
    assert_eq!((x.dim(), t.len()), ((n, 2), n));
    let pi = std::f64::consts::PI;
    assert!(x.iter().all(|v| (-pi..=pi).contains(v)));
    // Uniform on [-pi, pi]: mean 0, variance pi^2 / 3 (standard error ~0.007 at this n).
    for j in 0..2 {
        let (m, s) = mean_std(x.column(j).iter().copied());
        assert!(m.abs() < 0.03, "feature {j} mean {m}");
        assert!((s * s - pi * pi / 3.0).abs() < 0.05, "feature {j} variance {}", s * s);
    }
    // The noise, standardized by its standard deviation 0.3 cos(x1)^6 + 0.1, is N(0, 1).
    let z = (0..n).map(|i| {
        let (x0, x1) = (x[[i, 0]], x[[i, 1]]);
        (t[i] - (2.0 * x0).sin() * x1.cos().powi(4)) / (0.3 * x1.cos().powi(6) + 0.1)
    });
    let (m, s) = mean_std(z);
    assert!(m.abs() < 0.015, "noise mean {m}");
    assert!((s - 1.0).abs() < 0.015, "noise std {s}");
    // E[t] = 0 and E[t^2] = E[sin^2] E[cos^8] + E[(0.3 cos^6 + 0.1)^2]
    //      = 1/2 * 35/128 + 0.09 * 924/4096 + 0.06 * 20/64 + 0.01.
    let second = 0.5 * 35.0 / 128.0 + 0.09 * 924.0 / 4096.0 + 0.06 * 20.0 / 64.0 + 0.01;
    let (m, s) = mean_std(t.iter().copied());
    assert!(m.abs() < 0.01, "target mean {m}");
    assert!((s * s + m * m - second).abs() < 0.005, "target second moment {} vs {second}", s * s + m * m);
}

#[test]
fn make_tuning_data_is_seeded_and_f32_is_the_f64_data_rounded() {
    use kiln_estimators::datasets::make_tuning_data;
    let (x, t) = make_tuning_data::<f64>(500, 3);
    let (x2, t2) = make_tuning_data::<f64>(500, 3);
    assert_eq!((&x, &t), (&x2, &t2));
    let (x3, _) = make_tuning_data::<f64>(500, 4);
    assert_ne!(x, x3);
    let (xf, tf) = make_tuning_data::<f32>(500, 3);
    assert_eq!(xf, x.mapv(|v| v as f32));
    assert_eq!(tf, t.mapv(|v| v as f32));
    let (xe, te) = make_tuning_data::<f32>(0, 3);
    assert_eq!((xe.dim(), te.len()), ((0, 2), 0));
}
