//! The resident's photo on the confirm screen: `Photo.data_base64` (PNG or JPEG) decoded into an
//! image the screen can draw. A photo that does not decode is shown as "no photo", never as an
//! error.

use base64::Engine as _;
use iced::widget::image::Handle;
use protocol::api::Photo;

/// The largest photo side accepted, in pixels (the library's photos are ID-photo sized).
pub const MAX_SIDE: u32 = 2048;

/// Decodes a photo, or `None` if it is not a PNG or JPEG image of sensible size.
pub fn decode(photo: &Photo) -> Option<Handle> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(photo.data_base64.trim())
        .ok()?;
    let format = image::guess_format(&bytes).ok()?;
    if !matches!(format, image::ImageFormat::Png | image::ImageFormat::Jpeg) {
        return None;
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let rgba = reader.decode().ok()?.into_rgba8();
    let (width, height) = rgba.dimensions();
    Some(Handle::from_rgba(width, height, rgba.into_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(data: &[u8]) -> Photo {
        Photo {
            mime: "image/png".into(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(data),
        }
    }

    #[test]
    fn a_png_decodes() {
        let mut png = Vec::new();
        image::RgbaImage::from_pixel(3, 4, image::Rgba([10, 20, 30, 255]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        match decode(&photo(&png)) {
            Some(Handle::Rgba { width, height, .. }) => assert_eq!((width, height), (3, 4)),
            other => panic!("not decoded: {other:?}"),
        }
    }

    #[test]
    fn garbage_and_bad_base64_give_none() {
        assert!(decode(&photo(b"not an image")).is_none());
        assert!(decode(&photo(&[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0])).is_none());
        let bad = Photo {
            mime: "image/png".into(),
            data_base64: "***".into(),
        };
        assert!(decode(&bad).is_none());
    }
}
